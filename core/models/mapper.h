// ESPER's mapping network (ClipCap's MLP, num_layers 1): a CLIP image embedding to k prefix
// embeddings for the language model. x / sqrt(k·E / C) -> Linear(C, k·E/2) -> Tanh ->
// Linear(k·E/2, k·E) -> reshape (k, E). For ViT-B/32 and GPT-2: 512 -> 3840 -> 7680 = 10 x 768.
// ESPER added the division; ClipCap's released mappers read the features as CLIP gives them.
#pragma once

#include "models/weight_source.h"

namespace esper {

struct MapperShape {
    int64_t clipDim = 512;
    int64_t lmDim = 768;
    int64_t prefixLength = 10;
    // ESPER's x / sqrt(k·E / C); false for ClipCap's mappers, trained on unscaled features.
    bool scaledInput = true;
    int64_t hidden() const { return prefixLength * lmDim / 2; }
    int64_t parameterCount() const;
};
// Whether a mapper of this shape may be made: each size in range and the whole under
// kMaxMapperParameters; checked before anything is allocated.
Result<void> checkMapperShape(const MapperShape& shape);

class Mapper {
public:
    // Keys model.0.{weight,bias} / model.2.{weight,bias}, with or without the official
    // checkpoints' "clip_project." prefix.
    static Result<std::unique_ptr<Mapper>> create(const MapperShape& shape, WeightSource& w);
    // PyTorch's default nn.Linear initialisation (uniform ±1/sqrt(fan_in)), as ESPER starts.
    static std::unique_ptr<Mapper> randomInit(const MapperShape& shape, ComputeOptions options,
                                              uint64_t seed);

    // [B, C] unnormalised CLIP image features -> [B, k, E]
    at::Tensor forward(const at::Tensor& imageFeatures) const;
    const MapperShape& shape() const { return shape_; }
    // Tensors under the official key names, for writing a checkpoint.
    std::vector<std::pair<std::string, at::Tensor>> namedTensors() const;

private:
    MapperShape shape_;
    at::Tensor w0_, b0_, w2_, b2_;
};

} // namespace esper
