// Loads a model folder completely and reports what it holds, so a user (and `esper`) can tell a
// usable download from a broken one without running anything.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <string>

namespace esper {

struct ModelSummary {
    std::string family; // gpt2, clip or llama
    std::string device;
    int64_t tensors = 0;
    int64_t parameters = 0;
};

Result<ModelSummary> inspectModel(const std::string& dir, const std::string& device = "cpu",
                                  const std::string& dtype = "fp32");

} // namespace esper
