// The supervised ClipCap baseline: ESPER's mapper trained by teacher forcing on (CLIP image
// embedding, caption) pairs of the synthetic world with CLIP and the language model frozen. The
// upper bound ESPER's reinforcement learning (no pairs) is compared with, as in the paper.
#pragma once

#include "training/train_loop.h"

#include <string>
#include <vector>

namespace esper {

struct MapperTrainOptions {
    std::string clipDir, lmDir; // trained or downloaded model folders (with their tokenizers)
    std::string outPath;        // mapper.safetensors
    int prefixLength = 10;
    // Each example takes one of these styles at random, prompted "style:" as the language model
    // learnt it; empty: every style of the world.
    std::vector<std::string> styles;
    // When set, the language model is fine-tuned with the mapper (ClipCap's MLP + GPT-2 variant,
    // ESPER's FULL transfer setting) and saved to this folder; otherwise it stays frozen.
    std::string fineTunedLmDir;
    uint64_t worldSeed = 1;
    uint64_t trainScenes = 50000;
    uint64_t heldOutFirst = 1000000; // 256 scenes from here measure the held-out losses
    TrainSettings train;
};

struct MapperTrainReport : TrainSummary {
    // Teacher-forced loss on held-out scenes, with each text's own image and with another
    // scene's: the gap is what the mapper's prefix tells the language model about the image.
    double heldOutLoss = 0, heldOutMismatchedLoss = 0;
};

Result<MapperTrainReport> trainSupervisedMapper(const MapperTrainOptions& options);

} // namespace esper
