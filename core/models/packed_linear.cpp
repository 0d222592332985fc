#include "models/packed_linear.h"

#include "kernels/weight_kernels.h"

#include <ATen/ATen.h>

namespace esper {

std::shared_ptr<const PackedLinear> PackedLinear::pack(const at::Tensor& weight,
                                                       const at::Tensor& bias, bool inOut,
                                                       WeightFormat format) {
    auto p = std::make_shared<PackedLinear>();
    const at::Tensor w = (inOut ? weight.t() : weight).to(at::kCPU, at::kFloat).contiguous();
    p->out_ = w.size(0);
    p->in_ = w.size(1);
    p->format_ = format;
    if (format == WeightFormat::BFloat16) {
        p->bf16_ = w.to(at::kBFloat16).contiguous();
        if (bias.defined()) p->bf16Bias_ = bias.to(at::kCPU, at::kFloat).contiguous();
        return p;
    }
    if (format == WeightFormat::FloatPanels)
        p->wide_ = kernels::packWide(w.data_ptr<float>(), p->out_, p->in_);
    else if (format == WeightFormat::Half)
        p->half_ = kernels::packHalf(w.data_ptr<float>(), p->out_, p->in_);
    else
        p->int8_ = kernels::packInt8(w.data_ptr<float>(), p->out_, p->in_);
    if (bias.defined()) {
        const at::Tensor b = bias.to(at::kCPU, at::kFloat).contiguous();
        p->bias_.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    }
    return p;
}

at::Tensor PackedLinear::forward(const at::Tensor& x) const {
    if (format_ == WeightFormat::BFloat16) {
        const at::Tensor y = at::linear(x.to(at::kBFloat16), bf16_).to(at::kFloat);
        return bf16Bias_.defined() ? y.add_(bf16Bias_) : y;
    }
    auto shape = x.sizes().vec();
    shape.back() = out_;
    const at::Tensor rows = x.to(at::kFloat).reshape({-1, in_}).contiguous();
    at::Tensor y = at::empty({rows.size(0), out_}, rows.options());
    const float* bias = bias_.empty() ? nullptr : bias_.data();
    if (format_ == WeightFormat::FloatPanels)
        kernels::gemmWide(rows.data_ptr<float>(), rows.size(0), wide_, bias, y.data_ptr<float>(),
                          out_);
    else if (format_ == WeightFormat::Half)
        kernels::gemmHalf(rows.data_ptr<float>(), rows.size(0), half_, bias, y.data_ptr<float>(),
                          out_);
    else
        kernels::gemmInt8(rows.data_ptr<float>(), rows.size(0), int8_, bias, y.data_ptr<float>(),
                          out_);
    return y.view(shape);
}

int64_t PackedLinear::bytes() const {
    if (format_ == WeightFormat::BFloat16)
        return bf16_.numel() * 2 + (bf16Bias_.defined() ? bf16Bias_.numel() * 4 : 0);
    return int8_.bytes() + half_.bytes() + wide_.bytes() + int64_t(bias_.size() * 4);
}

at::Tensor linearOf(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                    const std::shared_ptr<const PackedLinear>& packed, bool inOut) {
    if (packed) return packed->forward(x);
    if (!inOut) return bias.defined() ? at::linear(x, weight, bias) : at::linear(x, weight);
    auto shape = x.sizes().vec();
    shape.back() = weight.size(1);
    const at::Tensor flat = x.reshape({-1, x.size(-1)});
    return (bias.defined() ? at::addmm(bias, flat, weight) : at::mm(flat, weight)).view(shape);
}

} // namespace esper
