// CIDEr-D as pycocoevalcap's Cider scorer computes it: n = 4, sigma = 6, document frequency over
// this set's references, clipped tf-idf vectors, the bigram-count length penalty, x10.
#pragma once

#include "metrics/eval_set.h"

namespace esper {

MetricResult ciderD(const EvalSet& set);

} // namespace esper
