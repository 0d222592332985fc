#include "training/sharded_gradients.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

namespace esper {

ShardedStep rowHalves(size_t rows,
                      std::function<std::vector<at::Tensor>(size_t from, size_t to)> forward) {
    ShardedStep step;
    step.shards = rows > 1 ? 2 : 1;
    step.parallel = std::thread::hardware_concurrency() > 1;
    const size_t half = (rows + 1) / 2;
    const bool whole = step.shards == 1;
    step.forward = [rows, half, whole, forward = std::move(forward)](int shard) {
        return whole ? forward(0, rows) : forward(shard == 0 ? 0 : half, shard == 0 ? half : rows);
    };
    return step;
}

ShardedGradients::ShardedGradients(std::vector<at::Tensor> params) : params_(std::move(params)) {}

ShardedGradients::~ShardedGradients() {
    if (!helper_.joinable()) return;
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    helper_.join();
}

void ShardedGradients::serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || job_; });
        if (stopping_) return;
        lock.unlock();
        std::exception_ptr error;
        try {
            job_();
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        jobError_ = error;
        job_ = nullptr;
        wake_.notify_all();
    }
}

void ShardedGradients::forEachShard(int shards, bool parallel,
                                    const std::function<void(int)>& work) {
    if (!parallel || shards < 2) {
        for (int s = 0; s < shards; ++s)
            work(s);
        return;
    }
    if (!helper_.joinable()) helper_ = std::thread([this] { serve(); });
    {
        const std::lock_guard lock(mutex_);
        job_ = [&work] { work(0); };
        jobError_ = nullptr;
    }
    wake_.notify_all();
    std::exception_ptr failure;
    try {
        for (int s = 1; s < shards; ++s)
            work(s);
    } catch (...) {
        failure = std::current_exception();
    }
    std::unique_lock lock(mutex_); // the helper's shard ends before anything is rethrown
    wake_.wait(lock, [&] { return !job_; });
    if (!failure) failure = jobError_;
    if (failure) std::rethrow_exception(failure);
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
