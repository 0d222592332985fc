// The fixed parts of rows that ESPER computes a rollout batch and each PPO minibatch in, and
// which worker computes which. Each part of a batch is sampled with its own seed, and each part of
// a minibatch is one forward pass with its own gradients, so the numbers never depend on who
// computed a part: one worker runs its parts on two threads, several workers share them out and
// sum what they computed (a row a worker did not compute is 0 in its copy). The number of workers
// must divide the number of parts; then one worker and several take the same steps.
#pragma once

#include "util/result.h"

#include <ATen/core/Tensor.h>
#include <string>
#include <utility>
#include <vector>

namespace esper {

class Collectives;

class RolloutParts {
public:
    RolloutParts(int parts, Collectives* workers);

    int parts() const { return parts_; }
    int rank() const { return rank_; }
    int workers() const { return workers_; }
    bool shared() const { return workers_ > 1; }
    // Part p of n rows: [first, end), the rows split as evenly as they go, earlier parts larger.
    std::pair<int64_t, int64_t> bounds(int64_t n, int p) const;
    bool mine(int p) const { return int64_t(p) * workers_ / parts_ == rank_; }
    // This worker's parts, in order.
    std::vector<int> myParts() const;
    // The rows of `index` [N] (long) in part p.
    at::Tensor slice(const at::Tensor& index, int p) const;

    // Sums the tensors over the workers (nothing to do alone): the exchange that puts together
    // what each computed of its own parts. `what` names it in errors.
    Result<void> sum(const std::vector<at::Tensor>& tensors, const std::string& what) const;
    Result<void> max(const std::vector<at::Tensor>& tensors, const std::string& what) const;
    // Seconds and bytes of this worker's exchanges so far.
    double exchangeSeconds() const;
    int64_t exchangeBytes() const;

private:
    int parts_ = 2, rank_ = 0, workers_ = 1;
    Collectives* net_ = nullptr;
};

} // namespace esper
