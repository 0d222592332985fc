// ROUGE-L as pycocoevalcap computes it: tokens from split(' '), best precision and best recall
// over the references taken separately, beta 1.2, mean over images.
#pragma once

#include "metrics/eval_set.h"

namespace esper {

MetricResult rougeL(const EvalSet& set);

} // namespace esper
