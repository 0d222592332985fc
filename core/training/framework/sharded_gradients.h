// One training step's forward and backward split into fixed shards of the batch that run on two
// threads when a second core is free and one after the other when it is not, with the same
// result to the bit either way: each shard's gradients are computed apart and summed in shard
// order, so what the threads do and when never reaches the numbers. CLIP (the demo build's long
// pole, on the core the language model leaves free) and the supervised mapper train this way.
#pragma once

#include "training/framework/helper_thread.h"

#include <ATen/core/Tensor.h>
#include <functional>
#include <vector>

namespace esper {

struct ShardedStep {
    int shards = 2;
    bool parallel = true; // run the shards at once (the result is the same either way)
    // Shard s's outputs (with their graphs), e.g. its rows' image and text features.
    std::function<std::vector<at::Tensor>(int shard)> forward;
    // The loss of every shard's outputs, given as leaves that need gradients: [shard][output].
    // Parameters it uses itself (CLIP's temperature) get their gradients the usual way.
    std::function<at::Tensor(const std::vector<std::vector<at::Tensor>>&)> loss;
};

// A step over a batch of `rows` in two fixed halves, rows [0, (rows + 1) / 2) and the rest (one
// shard for a single row); forward(from, to) gives a half's outputs. The halves run at once
// where the machine has a second core. The caller sets the loss.
ShardedStep rowHalves(size_t rows,
                      std::function<std::vector<at::Tensor>(size_t from, size_t to)> forward);

class ShardedGradients {
public:
    explicit ShardedGradients(std::vector<at::Tensor> params);

    // Runs the step and leaves each parameter's gradient in .grad (which must start undefined);
    // returns the loss. An error in the helper's shard is rethrown here.
    at::Tensor step(const ShardedStep& step);

private:
    // Runs work(s) for every shard: the first on the helper thread, the rest here.
    void forEachShard(int shards, bool parallel, const std::function<void(int)>& work);

    std::vector<at::Tensor> params_;
    HelperThread helper_;
};

} // namespace esper
