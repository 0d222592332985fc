// AdamW (decoupled weight decay, bias-corrected moments) with its state held as plain tensors,
// so a checkpoint can save and restore it exactly on any LibTorch version. Parameters come in
// groups that scale the scheduled rate and set their own weight decay (ESPER's value model may
// learn at another rate than its policy's mapper).
#pragma once

#include <ATen/core/Tensor.h>
#include <optional>
#include <string>
#include <vector>

namespace esper {

struct ParamGroup {
    std::string name;
    std::vector<at::Tensor> params;
    double rateScale = 1.0;                 // this group's rate is the scheduled rate times this
    std::optional<double> weightDecay = {}; // unset: the optimizer's
};

class AdamW {
public:
    struct Options {
        double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01;
    };
    AdamW(std::vector<at::Tensor> params, Options options);
    AdamW(std::vector<ParamGroup> groups, Options options);

    // One update of every parameter that has a gradient, at learning rate `rate` (scaled per
    // group).
    void step(double rate);
    void zeroGrad();
    // sqrt of the summed squared gradients of every parameter that has one.
    double gradientNorm() const;
    // Scales every gradient so that their norm is at most `maxNorm`; returns the norm before.
    double clipGradients(double maxNorm);

    // Every parameter, in group order (the order a checkpoint stores them in).
    const std::vector<at::Tensor>& params() const { return params_; }
    const std::vector<ParamGroup>& groups() const { return groups_; }
    // First and second moments, one per parameter (zeros until its first update).
    std::vector<at::Tensor>& firstMoments() { return m_; }
    std::vector<at::Tensor>& secondMoments() { return v_; }
    const std::vector<at::Tensor>& firstMoments() const { return m_; }
    const std::vector<at::Tensor>& secondMoments() const { return v_; }
    int64_t steps() const { return steps_; }
    void setSteps(int64_t steps) { steps_ = steps; }

private:
    std::vector<ParamGroup> groups_;
    std::vector<at::Tensor> params_, m_, v_;
    std::vector<double> rateScale_, decay_; // per parameter, from its group
    Options options_;
    int64_t steps_ = 0;
};

} // namespace esper
