#include "training/framework/train_loop.h"

#include <algorithm>

namespace esper {

double scheduledRate(const TrainSettings& s, int step) {
    if (s.warmupSteps > 0 && step < s.warmupSteps)
        return s.learningRate * double(step + 1) / double(s.warmupSteps);
    const double left = double(s.steps - step) / double(std::max(1, s.steps - s.warmupSteps));
    return s.learningRate * std::clamp(left, 0.0, 1.0);
}

} // namespace esper
