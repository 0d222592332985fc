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
// How a CPU model holds its linear layers' weights: as loaded, int8 or fp16 (turned back into
// fp32 inside our kernels), or bf16, multiplied by oneDNN in bf16 and summed in fp32 (the
// activations, norms and softmax stay fp32); or, for products over many rows (CLIP's), fp32 in
// our kernels' wide panels (kernels::WideWeights).
enum class WeightFormat { Dense, Int8, Half, BFloat16, FloatPanels };

struct ComputeOptions {
    c10::Device device{c10::kCPU};
    c10::ScalarType dtype = c10::kFloat;
    WeightFormat weights = WeightFormat::Dense;
};

Result<c10::Device> parseDevice(const std::string& text);
Result<c10::ScalarType> parseDType(const std::string& text);
// dtype: fp32, bf16 or fp16 (on CUDA: computed in that type; on the CPU: weights in that type,
// the rest in fp32) or int8 (the CPU only: int8 weights, fp32 compute).
Result<ComputeOptions> parseComputeOptions(const std::string& device, const std::string& dtype);
std::string describe(const ComputeOptions& options);
// How CLIP's products run: its 50-row (image) and 77-row (text) products are bound by
// arithmetic, not by reading weights, so int8 and fp16 weights do not speed them up; bf16
// products do where the CPU has AMX tiles (kernels::fastBf16Products). So on the CPU: bf16 when
// asked for, or in a compressed mode on such a CPU; otherwise fp32 in our wide panels, which run
// these products 2-3x faster than LibTorch's BLAS where the CPU has AVX2 or AVX-512, or as loaded
// where it has neither (or $ESPER_CPU_KERNELS=generic). Elsewhere, as loaded; and a CLIP being
// trained (WeightSource::trainable) keeps its tensors whatever this says.
WeightFormat clipWeights(const ComputeOptions& options);
} // namespace esper
