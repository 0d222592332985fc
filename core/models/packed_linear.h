// A linear layer's weight held compressed for CPU inference: int8 with one scale per group of
// 32 weights, or fp16, multiplied in fp32 by kernels/weight_kernels.h (or, uncompressed, fp32
// in the wide panels that serve products over many rows); or bf16, multiplied by
// LibTorch's oneDNN in bf16 (summed in fp32; the input rounded to bf16 on the way in, the output
// on the way out). Made once from the fp32 weight when a model loads with --dtype int8, fp16 or
// bf16 on the CPU; inference only (no autograd).
#pragma once

#include "kernels/weight_kernels.h"
#include "models/device.h"

#include <ATen/core/Tensor.h>
#include <cstdint>
#include <memory>
#include <vector>

namespace esper {

class PackedLinear {
public:
    // `weight` [out, in], or [in, out] when `inOut` (GPT-2's Conv1D); `bias` [out] or undefined.
    static std::shared_ptr<const PackedLinear>
    pack(const at::Tensor& weight, const at::Tensor& bias, bool inOut, WeightFormat format);
    // [..., in] -> [..., out], in fp32.
    at::Tensor forward(const at::Tensor& x) const;
    int64_t bytes() const; // what the packed weight holds

private:
    int64_t in_ = 0, out_ = 0;
    WeightFormat format_ = WeightFormat::Int8;
    kernels::Int8Weights int8_;
    kernels::HalfWeights half_;
    kernels::WideWeights wide_;
    std::vector<float> bias_;
    at::Tensor bf16_, bf16Bias_; // BFloat16: [out, in] bf16, [out] fp32 or undefined
};

// x · Wᵀ + b through `packed` when it is set, else in dense form: `weight` [out, in], or [in, out]
// when `inOut`.
at::Tensor linearOf(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                    const std::shared_ptr<const PackedLinear>& packed, bool inOut = false);

} // namespace esper
