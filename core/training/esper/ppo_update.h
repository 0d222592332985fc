// PPO's update on one batch of episodes, as lightning.py's run_train_loop and loss run it:
// `ppoEpochs` passes over the batch in shuffled minibatches (the first epoch in the order the
// old passes used), each minibatch whitening its rewards, estimating advantages with GAE, and
// taking one optimizer step on the clipped policy loss (left out during the KL-only warm-up),
// the clipped value loss, the time-axis KL and the entropy loss. The value model's half runs on
// the helper thread beside the policy's. Among several workers, each computes its parts of every
// minibatch, and the gradients (and the figures) are summed before each optimizer step, which
// then takes the same step on every worker.
#pragma once

#include "training/esper/esper_models.h"
#include "training/esper/esper_rollouts.h"
#include "training/framework/helper_thread.h"
#include "training/framework/train_runner.h"

#include <map>
#include <random>
#include <string>

namespace esper {

struct PpoUpdate {
    double loss = 0; // the mean minibatch loss
    // Means over minibatches: losses, clip fractions, approx-KL, explained variance, policy
    // entropy; and the first minibatch's largest |ratio - 1| (exactly 0 when the old passes
    // agree with the first minibatch's).
    std::map<std::string, double> metrics;
};

Result<PpoUpdate> ppoUpdate(const EsperConfig& config, const EsperModels& models,
                            const EpisodeBatch& batch, const RolloutParts& parts, bool klOnly,
                            HelperThread& helper, OptimizerSteps& optimizer, std::mt19937_64& rng);

} // namespace esper
