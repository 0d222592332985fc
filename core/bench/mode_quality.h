// What the compressed CPU modes (--dtype int8 / fp16) cost in quality on a real bundle, measured
// against fp32 on the same inputs: the language model's largest logit difference on the fp32
// captions' tokens, the share of captions that come out token for token the same, and how far
// their CLIP-S moves. The inputs are the synthetic world's held-out scenes (or images given).
#pragma once

#include "image/rgb_image.h"
#include "util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {

struct ModeQualityOptions {
    std::string bundleDir, modelsDir;
    std::vector<std::string> modes{"fp16", "int8"};
    std::vector<RgbImage> images; // empty: `scenes` scenes of the world from `firstScene`
    int scenes = 32;
    uint64_t worldSeed = 1, firstScene = 2000000;
};

// One JSON object: per mode, the figures above and the seconds it took beside fp32's.
Result<std::string> runModeQuality(const ModeQualityOptions& options);

} // namespace esper
