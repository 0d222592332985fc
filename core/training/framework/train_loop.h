// What every trainer shares: AdamW with warmup then linear decay, gradient clipping, a JSONL
// metrics log, progress with ETA, a cancel flag, a time budget, and checkpoints that can be
// resumed.
#pragma once

#include "util/result.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace esper {

struct TrainSettings {
    // The schedule's length in steps (a trainer's "iteration" may hold several optimizer steps;
    // the rate moves once per iteration). The run stops there, or earlier at `stopAfter` steps or
    // after `maxSeconds` of this run's time.
    int steps = 1000;
    int stopAfter = 0;     // 0: at `steps`
    double maxSeconds = 0; // 0: no time budget
    int batchSize = 64;
    double learningRate = 3e-4;
    double weightDecay = 0.01;
    int warmupSteps = 50;
    double clipNorm = 1.0; // 0: no clipping
    uint64_t seed = 1;
    std::string logPath{}; // JSONL metrics, one line per logged step (empty: none)
    int logEvery = 10;
    const std::atomic<bool>* cancel = nullptr;
    // Checkpoints (parameters, optimizer moments, step, random state) are written here every
    // `checkpointEvery` steps, on cancel and at the end; empty: none. With `resume`, a run whose
    // checkpoint exists continues from it instead of starting over.
    std::string checkpointPath{};
    int checkpointEvery = 200;
    bool resume = false;
    // False in every worker but the first of a data-parallel run: no log and no checkpoint
    // written (a checkpoint is still read on resume).
    bool writes = true;
    // Among several workers, whether to stop now, given this worker's answer (cancelled or out
    // of time): they must all stop at the same iteration. Unset: the answer stands.
    std::function<Result<bool>(bool)> agreeToStop{};
    // (step, steps, loss, seconds left): for progress bars.
    std::function<void(int, int, double, double)> onProgress{};
};

// What every trainer reports of its optimisation, whatever else it measures.
struct TrainSummary {
    int steps = 0;                      // finished steps, resumed ones included
    int resumedFrom = 0;                // the step a checkpoint restored, 0 for a fresh run
    double firstLoss = 0, lastLoss = 0; // means over the first and last 10 % of steps
    double seconds = 0;
};

// The learning rate at `step`: linear warmup to the peak, then linear decay to zero.
double scheduledRate(const TrainSettings& s, int step);

} // namespace esper
