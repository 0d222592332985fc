// Device and precision choices, parsed from the user's words ("cpu", "cuda:1", "bf16").
#pragma once

#include "util/result.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <string>

namespace esper {

struct ComputeOptions {
    c10::Device device{c10::kCPU};
    c10::ScalarType dtype = c10::kFloat;
};

Result<c10::Device> parseDevice(const std::string& text);
Result<c10::ScalarType> parseDType(const std::string& text);
Result<ComputeOptions> parseComputeOptions(const std::string& device, const std::string& dtype);
std::string describe(const ComputeOptions& options);
} // namespace esper
