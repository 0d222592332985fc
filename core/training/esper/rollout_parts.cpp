#include "training/esper/rollout_parts.h"

#include "distributed/collectives.h"

namespace esper {

RolloutParts::RolloutParts(int parts, Collectives* workers)
    : parts_(parts), rank_(workers ? workers->rank() : 0), workers_(workers ? workers->size() : 1),
      net_(workers) {}

std::pair<int64_t, int64_t> RolloutParts::bounds(int64_t n, int p) const {
    // ceil(p·n / parts): with two parts, the first (n + 1) / 2 rows and the rest.
    auto edge = [&](int64_t k) { return (k * n + parts_ - 1) / parts_; };
    return {edge(p), edge(p + 1)};
}

std::vector<int> RolloutParts::myParts() const {
    std::vector<int> out;
    for (int p = 0; p < parts_; ++p)
        if (mine(p)) out.push_back(p);
    return out;
}

at::Tensor RolloutParts::slice(const at::Tensor& index, int p) const {
    const auto [from, to] = bounds(index.size(0), p);
    return index.slice(0, from, to);
}

Result<void> RolloutParts::sum(const std::vector<at::Tensor>& tensors,
                               const std::string& what) const {
    return net_ ? net_->sum(tensors, what) : Result<void>{};
}

Result<void> RolloutParts::max(const std::vector<at::Tensor>& tensors,
                               const std::string& what) const {
    return net_ ? net_->max(tensors, what) : Result<void>{};
}

double RolloutParts::exchangeSeconds() const {
    return net_ ? net_->seconds() : 0.0;
}

int64_t RolloutParts::exchangeBytes() const {
    return net_ ? net_->bytes() : 0;
}

} // namespace esper
