// The models trainers start from, as trainable parameters in the layout the loaders read: ESPER's
// mapper (PyTorch's default initialisation, as ESPER starts, or a bundle's mapper) and a copy of
// a language model folder (fine-tuned with a mapper, as a style generator, or as ESPER's value
// model).
#pragma once

#include "models/causal_lm.h"
#include "models/mapper.h"
#include "training/framework/trainable_weights.h"

#include <memory>
#include <string>

namespace esper {

struct TrainableMapper {
    std::unique_ptr<TrainableWeights> weights; // model.{0,2}.{weight,bias}
    std::unique_ptr<Mapper> mapper;            // reads `weights`
};
// Starts from `from` (a mapper's safetensors, with or without the official "clip_project."
// prefix) or, when empty, from Mapper::randomInit(seed).
Result<TrainableMapper> trainableMapper(const MapperShape& shape, ComputeOptions options,
                                        uint64_t seed, const std::string& from = "");

struct TrainableLm {
    std::unique_ptr<TrainableWeights> weights;
    std::unique_ptr<CausalLm> lm; // reads `weights`
};
// A trainable copy of the language model in `dir` (config.json + model.safetensors).
Result<TrainableLm> trainableLmCopy(const std::string& dir, ComputeOptions options, uint64_t seed);
// Writes the trained copy as a model folder: `sourceDir`'s config.json, the tokenizer files
// of `tokenizerDir` (default: sourceDir), the trained weights.
Result<void> saveLmFolder(const TrainableLm& lm, const std::string& sourceDir,
                          const std::string& outDir, const std::string& producedBy,
                          const std::string& tokenizerDir = "");

} // namespace esper
