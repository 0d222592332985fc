// BLEU-1..4 exactly as pycocoevalcap computes it: closest reference length (ties to the shorter),
// corpus counts summed over images, 1e-15 / 1e-9 as the only smoothing.
#pragma once

#include "metrics/eval_set.h"

#include <array>

namespace esper {

std::array<MetricResult, 4> bleu(const EvalSet& set);

} // namespace esper
