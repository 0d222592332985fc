// Training checkpoints in safetensors: the parameters, AdamW's moments, the step, the batch
// sampler's random state and the losses so far, so that a resumed run continues exactly where
// the interrupted one stopped (the same batches, the same updates).
#pragma once

#include "training/adamw.h"
#include "util/result.h"

#include <random>
#include <string>
#include <vector>

namespace esper {

struct TrainProgress {
    int step = 0;       // steps finished
    int totalSteps = 0; // what the run was asked for (its learning-rate schedule depends on it)
    std::mt19937_64 rng;
    std::vector<double> losses;
};

Result<void> saveCheckpoint(const std::string& path, const AdamW& optimizer,
                            const TrainProgress& progress);
// Restores the parameters and moments of `optimizer` in place; every tensor must be there with
// the shape the optimizer holds, otherwise nothing is changed and the error names the file.
Result<TrainProgress> loadCheckpoint(const std::string& path, AdamW& optimizer);

} // namespace esper
