// AdamW (decoupled weight decay, bias-corrected moments) with its state held as plain tensors,
// so a checkpoint can save and restore it exactly on any LibTorch version.
#pragma once

#include <ATen/core/Tensor.h>
#include <vector>

namespace esper {

class AdamW {
public:
    struct Options {
        double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01;
    };
    AdamW(std::vector<at::Tensor> params, Options options);

    // One update of every parameter that has a gradient, at learning rate `rate`.
    void step(double rate);
    void zeroGrad();

    const std::vector<at::Tensor>& params() const { return params_; }
    // First and second moments, one per parameter (zeros until its first update).
    std::vector<at::Tensor>& firstMoments() { return m_; }
    std::vector<at::Tensor>& secondMoments() { return v_; }
    const std::vector<at::Tensor>& firstMoments() const { return m_; }
    const std::vector<at::Tensor>& secondMoments() const { return v_; }
    int64_t steps() const { return steps_; }
    void setSteps(int64_t steps) { steps_ = steps; }

private:
    std::vector<at::Tensor> params_, m_, v_;
    Options options_;
    int64_t steps_ = 0;
};

} // namespace esper
