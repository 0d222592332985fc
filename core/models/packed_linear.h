// A linear layer's weight held compressed for CPU inference: int8 with one scale per output
// channel, or fp16, multiplied in fp32 by kernels/weight_kernels.h. Made once from the fp32
// weight when a model loads with --dtype int8 or fp16 on the CPU; inference only (no autograd).
#pragma once

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
    std::vector<int8_t> q_;
    std::vector<float> scale_;
    std::vector<uint16_t> half_;
    std::vector<float> bias_;
};

// x · Wᵀ + b through `packed` when it is set, else in dense form: `weight` [out, in], or [in, out]
// when `inOut`.
at::Tensor linearOf(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                    const std::shared_ptr<const PackedLinear>& packed, bool inOut = false);

} // namespace esper
