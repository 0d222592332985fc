// Device and precision choices, parsed from the user's words ("cpu", "cuda:1", "bf16").
#pragma once

#include "util/result.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <string>

namespace esper {

// How the weights of the large matrices are held: as `dtype`, or compressed for CPU inference
// (int8 with per-channel scales, or fp16) and computed in fp32 (kernels/weight_kernels.h).
enum class WeightFormat { Dense, Int8, Half };

struct ComputeOptions {
    c10::Device device{c10::kCPU};
    c10::ScalarType dtype = c10::kFloat;
    WeightFormat weights = WeightFormat::Dense;
};

Result<c10::Device> parseDevice(const std::string& text);
Result<c10::ScalarType> parseDType(const std::string& text);
// dtype: fp32, bf16, fp16 (on CUDA: half compute; on the CPU: fp16 weights, fp32 compute) or
// int8 (the CPU only: int8 weights, fp32 compute).
Result<ComputeOptions> parseComputeOptions(const std::string& device, const std::string& dtype);
std::string describe(const ComputeOptions& options);
} // namespace esper
