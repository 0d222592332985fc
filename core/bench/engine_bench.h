// `esper bench`: speed of the engine's models at full size with random weights.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {

struct BenchOptions {
    std::string device = "cpu";
    std::string dtype = "fp32";
    bool gpt2 = true;
    bool clip = true;
    bool metrics = true;
    bool endToEnd = true; // one image x 7 styles: encode, decode 20 tokens, score
    bool audio = true;    // Wav2CLIP (ResNet-18) on 5 s of sound
    int decodeSteps = 20;
    int repeats = 3;
    // Empty: ours (GPT-2 1 and 8, CLIP 1 and 16), plus the peer's large batch on CUDA.
    std::vector<int64_t> gpt2Batches, clipBatches;
};

// One JSON object with the figures; the error names what could not be measured.
Result<std::string> runEngineBench(const BenchOptions& options);

} // namespace esper
