// The optimisation loop every trainer runs: AdamW on the trainable parameters with the
// scheduled learning rate, gradient clipping, a JSONL log, progress, cancel, and checkpoints
// that resume exactly. Trainers supply only the loss of a step.
#pragma once

#include "training/train_loop.h"
#include "training/trainable_weights.h"

#include <ATen/core/Tensor.h>
#include <functional>
#include <random>
#include <vector>

namespace esper {

struct TrainRun {
    std::vector<double> losses; // one per finished step, resumed steps included
    int resumedFrom = 0;        // the step a checkpoint restored (0: a fresh start)
    double seconds = 0;         // this run's time, not the interrupted run's
    double firstLoss() const;   // mean of the first 10 % of steps
    double lastLoss() const;    // mean of the last 10 %
    TrainSummary summary() const;
};

// `lossOf(step, rng)` builds a batch and returns its scalar loss (with a graph);
// `afterStep` may constrain parameters (e.g. clamp CLIP's temperature) without gradients.
// Fails only when a checkpoint cannot be read or written.
Result<TrainRun> runTraining(const std::vector<at::Tensor>& params, const TrainSettings& settings,
                             const std::function<at::Tensor(int, std::mt19937_64&)>& lossOf,
                             const std::function<void()>& afterStep = {});
// The same for a step that computes its own gradients (e.g. in shards on two threads):
// `stepOf(step, rng)` leaves each parameter's gradient in .grad, which starts undefined, and
// returns the loss.
Result<TrainRun> runTrainingSteps(const std::vector<at::Tensor>& params,
                                  const TrainSettings& settings,
                                  const std::function<at::Tensor(int, std::mt19937_64&)>& stepOf,
                                  const std::function<void()>& afterStep = {});

} // namespace esper
