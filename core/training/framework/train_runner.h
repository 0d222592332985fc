// The optimisation loop every trainer runs: AdamW on parameter groups with the scheduled learning
// rate, a JSONL log of each iteration's loss and named metrics, progress, cancel, a time budget,
// and checkpoints (with the trainer's own state) that resume exactly. A trainer supplies one
// iteration: the loss of a batch, or anything that takes several optimizer steps (ESPER's PPO
// takes 64 per rollout batch).
#pragma once

#include "training/framework/adamw.h"
#include "training/framework/train_loop.h"

#include <ATen/core/Tensor.h>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace esper {

struct TrainRun {
    std::vector<double> losses; // one per finished iteration, resumed ones included
    int resumedFrom = 0;        // the iteration a checkpoint restored (0: a fresh start)
    double seconds = 0;         // this run's time, not the interrupted run's
    double firstLoss() const;   // mean of the first 10 % of iterations
    double lastLoss() const;    // mean of the last 10 %
    TrainSummary summary() const;
};

// The summary of a run that made at least one step; the run's error, or a cancelled error when
// it was stopped before its first step (there is then nothing to save).
Result<TrainSummary> summaryOfRun(const Result<TrainRun>& run);

// What an iteration may do with the optimizer: any number of steps at the iteration's rate.
class OptimizerSteps {
public:
    OptimizerSteps(AdamW& optimizer, double rate, double clipNorm)
        : optimizer_(optimizer), rate_(rate), clipNorm_(clipNorm) {}
    void zeroGrad() { optimizer_.zeroGrad(); }
    // Clips the gradients (TrainSettings::clipNorm) and updates. Returns the gradients' norm
    // before clipping, measured at every step when clipping and at the iteration's first
    // otherwise (NaN when not measured).
    double step();
    double rate() const { return rate_; }
    int taken() const { return taken_; }
    double meanGradientNorm() const { return measured_ ? normSum_ / measured_ : 0.0; }

private:
    AdamW& optimizer_;
    double rate_, clipNorm_;
    int taken_ = 0, measured_ = 0;
    double normSum_ = 0;
};

struct IterationResult {
    double loss = 0;
    std::map<std::string, double> metrics; // logged beside the loss
};

// `iteration(index, rng, optimizer)` runs one iteration. An error ends the run without a
// checkpoint: the failed iteration may have updated some parameters, and the checkpoint last
// written (every TrainSettings::checkpointEvery iterations) stays the one to resume from.
using IterationFn = std::function<Result<IterationResult>(int, std::mt19937_64&, OptimizerSteps&)>;

struct TrainHooks {
    // Parameters it constrains without gradients after each iteration (CLIP's temperature).
    std::function<void()> afterIteration;
    // The trainer's own state for checkpoints, and its restoration on resume.
    std::function<std::map<std::string, std::string>()> saveState;
    std::function<Result<void>(const std::map<std::string, std::string>&)> restoreState;
};

Result<TrainRun> runIterations(const std::vector<ParamGroup>& groups, const TrainSettings& settings,
                               const IterationFn& iteration, const TrainHooks& hooks = {});

// One optimizer step per iteration: `lossOf(step, rng)` builds a batch and returns its scalar
// loss (with a graph); `afterStep` may constrain parameters (e.g. clamp CLIP's temperature)
// without gradients. Fails only when a checkpoint cannot be read or written.
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
