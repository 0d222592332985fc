// Training checkpoints in safetensors: the parameters, AdamW's moments, the step, the batch
// sampler's random state, the losses so far and the trainer's own state as named strings (ESPER's
// reward calibration, say), so that a resumed run continues exactly where the interrupted one
// stopped (the same batches, the same updates).
#pragma once

#include "training/framework/adamw.h"
#include "util/result.h"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace esper {

struct TrainProgress {
    int step = 0;       // steps finished
    int totalSteps = 0; // what the run was asked for (its learning-rate schedule depends on it)
    std::mt19937_64 rng;
    std::vector<double> losses;
    double seconds = 0; // training time of the steps finished, summed over resumed runs
    std::map<std::string, std::string> metadata; // the trainer's state, saved as is
};

Result<void> saveCheckpoint(const std::string& path, const AdamW& optimizer,
                            const TrainProgress& progress);
// Restores the parameters and moments of `optimizer` in place; every tensor must be there with
// the shape the optimizer holds, otherwise nothing is changed and the error names the file.
Result<TrainProgress> loadCheckpoint(const std::string& path, AdamW& optimizer);

} // namespace esper
