#include "training/framework/adamw.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <cmath>

namespace esper {

AdamW::AdamW(std::vector<at::Tensor> params, Options options)
    : AdamW(std::vector<ParamGroup>{{"all", std::move(params)}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, Options options)
    : groups_(std::move(groups)), options_(options) {
    for (const auto& g : groups_)
        for (const auto& p : g.params) {
            params_.push_back(p);
            rateScale_.push_back(g.rateScale);
            decay_.push_back(g.weightDecay.value_or(options_.weightDecay));
            m_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous));
            v_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous));
        }
}

void AdamW::zeroGrad() {
    for (auto& p : params_)
        if (p.grad().defined()) p.mutable_grad() = at::Tensor();
}

double AdamW::gradientNorm() const {
    double sum = 0;
    for (const auto& p : params_)
        if (p.grad().defined()) sum += p.grad().pow(2).sum().item<double>();
    return std::sqrt(sum);
}

double AdamW::clipGradients(double maxNorm) {
    const double norm = gradientNorm();
    if (maxNorm > 0 && norm > maxNorm)
        for (auto& p : params_)
            if (p.grad().defined()) p.mutable_grad().mul_(maxNorm / (norm + 1e-6));
    return norm;
}

void AdamW::step(double rate) {
    c10::NoGradGuard noGrad;
    ++steps_;
    const double correction1 = 1 - std::pow(options_.beta1, double(steps_));
    const double correction2 = 1 - std::pow(options_.beta2, double(steps_));
    for (size_t i = 0; i < params_.size(); ++i) {
        auto& p = params_[i];
        const at::Tensor g = p.grad();
        if (!g.defined()) continue;
        const double r = rate * rateScale_[i];
        // The same order of operations as torch.optim.AdamW.
        p.mul_(1 - r * decay_[i]);
        m_[i].mul_(options_.beta1).add_(g, 1 - options_.beta1);
        v_[i].mul_(options_.beta2).addcmul_(g, g, 1 - options_.beta2);
        const at::Tensor denom = (v_[i].sqrt() / std::sqrt(correction2)).add_(options_.eps);
        p.addcdiv_(m_[i], denom, -r / correction1);
    }
}

} // namespace esper
