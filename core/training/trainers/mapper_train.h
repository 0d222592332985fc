// The supervised ClipCap baseline: ESPER's mapper trained by teacher forcing on (CLIP image
// embedding, caption) pairs of the synthetic world with CLIP and the language model frozen. The
// upper bound ESPER's reinforcement learning (no pairs) is compared with, as in the paper.
#pragma once

#include "training/framework/train_loop.h"
#include "world/lm_probes.h"

#include <optional>
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
    // When set, the mapper reads each scene's ground truth (world::groundTruthFeatures) instead
    // of CLIP's image embedding: a perfect image encoder. What it then captions wrong, the
    // language model's side lost. Such a mapper is a measurement, not a bundle's: it cannot read
    // images. Its input is CLIP's width, or world::kGroundTruthFeatures when CLIP's is narrower.
    bool groundTruth = false;
    uint64_t worldSeed = 1;
    uint64_t trainScenes = 50000;
    uint64_t heldOutFirst = 1000000; // 256 scenes from here measure the held-out losses
    TrainSettings train;
};

struct MapperTrainReport : TrainSummary {
    // Teacher-forced loss on held-out scenes, with each text's own image and with another
    // scene's: the gap is what the mapper's prefix tells the language model about the image.
    double heldOutLoss = 0, heldOutMismatchedLoss = 0;
    // With `groundTruth`: greedy `caption:` for 200 held-out scenes from their ground truth,
    // read back by the caption checker.
    std::optional<world::LmCopyProbe> groundTruthCaptions;
    std::optional<world::BindingProbe> groundTruthBinding; // on the same scenes
};

Result<MapperTrainReport> trainSupervisedMapper(const MapperTrainOptions& options);

} // namespace esper
