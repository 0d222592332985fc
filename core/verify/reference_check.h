// Runs a model folder on the inputs recorded in a reference io.safetensors and compares every
// recorded output: the engine's own proof of parity with the reference implementation.
#pragma once

#include "util/result.h"

#include <string>
#include <vector>

namespace esper {

struct OutputCheck {
    std::string name;
    bool isTokens = false;
    double maxAbsDiff = 0;  // values
    int64_t mismatches = 0; // tokens
    int64_t count = 0;      // elements compared
    double tolerance = 0;
    bool passed = false;
};

struct ReferenceReport {
    std::string family;
    std::string device;
    std::vector<OutputCheck> checks;
    bool passed() const;
    std::string toJson() const;
};

struct ReferenceOptions {
    std::string device = "cpu";
    std::string dtype = "fp32";
    // < 0: the default of the precision the model runs in: 1e-4 fp32, 1e-3 fp16 weights on the
    // CPU, 0.02 int8 weights and fp16 on CUDA, 0.1 bf16 (CLIP's bf16 products included).
    double tolerance = -1;
    std::string ioPath; // default: MODEL_DIR/io.safetensors
};

Result<ReferenceReport> verifyReference(const std::string& modelDir,
                                        const ReferenceOptions& options = {});

} // namespace esper
