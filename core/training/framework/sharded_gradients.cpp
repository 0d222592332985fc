#include "training/framework/sharded_gradients.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

namespace esper {

ShardedStep rowHalves(size_t rows,
                      std::function<std::vector<at::Tensor>(size_t from, size_t to)> forward) {
    ShardedStep step;
    step.shards = rows > 1 ? 2 : 1;
    step.parallel = helperCoreAvailable();
    const size_t half = (rows + 1) / 2;
    const bool whole = step.shards == 1;
    step.forward = [rows, half, whole, forward = std::move(forward)](int shard) {
        return whole ? forward(0, rows) : forward(shard == 0 ? 0 : half, shard == 0 ? half : rows);
    };
    return step;
}

ShardedGradients::ShardedGradients(std::vector<at::Tensor> params) : params_(std::move(params)) {}

void ShardedGradients::forEachShard(int shards, bool parallel,
                                    const std::function<void(int)>& work) {
    if (!parallel || shards < 2) {
        for (int s = 0; s < shards; ++s)
            work(s);
        return;
    }
    helper_.runBeside([&work] { work(0); },
                      [&] {
                          for (int s = 1; s < shards; ++s)
                              work(s);
                      });
}

at::Tensor ShardedGradients::step(const ShardedStep& step) {
    const auto shards = static_cast<size_t>(step.shards);
    std::vector<std::vector<at::Tensor>> outputs(shards), leaves(shards);
    forEachShard(step.shards, step.parallel,
                 [&](int s) { outputs[static_cast<size_t>(s)] = step.forward(s); });
    for (size_t s = 0; s < shards; ++s)
        for (const auto& out : outputs[s])
            leaves[s].push_back(out.detach().requires_grad_());
    at::Tensor loss = step.loss(leaves);
    loss.backward();
    // Each shard's gradients as values, not accumulated into .grad, so their sum below has one
    // order however the threads ran.
    std::vector<std::vector<at::Tensor>> grads(shards);
    forEachShard(step.shards, step.parallel, [&](int s) {
        const auto k = static_cast<size_t>(s);
        std::vector<at::Tensor> upstream;
        for (const auto& leaf : leaves[k])
            upstream.push_back(leaf.grad().defined() ? leaf.grad() : at::zeros_like(leaf));
        grads[k] = torch::autograd::grad(outputs[k], params_, upstream, /*retain_graph=*/false,
                                         /*create_graph=*/false, /*allow_unused=*/true);
    });
    for (size_t i = 0; i < params_.size(); ++i) {
        at::Tensor sum = params_[i].grad(); // from the loss itself, or undefined
        for (size_t s = 0; s < shards; ++s)
            if (const auto& g = grads[s][i]; g.defined()) sum = sum.defined() ? sum + g : g;
        if (sum.defined()) params_[i].mutable_grad() = sum;
    }
    return loss.detach();
}

} // namespace esper
