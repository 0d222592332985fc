// The supervised ClipCap baseline: ESPER's mapper trained by teacher forcing on (CLIP image
// embedding, caption) pairs of the synthetic world with CLIP and the language model frozen. The
// upper bound ESPER's reinforcement learning (no pairs) is compared with, as in the paper.
#pragma once

#include "training/train_loop.h"

#include <string>

namespace esper {

struct MapperTrainOptions {
    std::string clipDir, lmDir; // trained or downloaded model folders (with their tokenizers)
    std::string outPath;        // mapper.safetensors
    int prefixLength = 4;
    std::string prompt = "caption:";
    // When set, the language model is fine-tuned with the mapper (ClipCap's MLP + GPT-2 variant,
    // ESPER's FULL transfer setting) and saved to this folder; otherwise it stays frozen.
    std::string fineTunedLmDir;
    uint64_t worldSeed = 1;
    uint64_t trainScenes = 50000;
    TrainSettings train;
};

struct MapperTrainReport {
    int steps = 0;
    double firstLoss = 0, lastLoss = 0, seconds = 0;
};

Result<MapperTrainReport> trainSupervisedMapper(const MapperTrainOptions& options);

} // namespace esper
