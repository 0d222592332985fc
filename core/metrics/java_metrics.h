// METEOR 1.5 and SPICE 1.0 run through the user's own jars, in the protocols pycocoevalcap uses.
// Neither is shipped; without a jar or a Java runtime the result says plainly why it is absent.
#pragma once

#include "metrics/eval_set.h"
#include "util/result.h"

#include <string>

namespace esper {

struct JavaTools {
    std::string java;      // empty: `java` on PATH
    std::string meteorJar; // meteor-1.5.jar
    std::string spiceJar;  // spice-1.0.jar (needs its lib/ folder beside it)
};

// `java -jar -Xmx2G meteor-1.5.jar - - -stdio -l en -norm`: one SCORE line per image, then one
// EVAL line; per-image scores and the corpus score come back. Captions should be PTB-tokenised.
Result<MetricResult> meteor(const EvalSet& set, const JavaTools& tools);

// `java -jar -Xmx8G spice-1.0.jar IN.json -cache DIR -out OUT.json -subset -silent`; the corpus
// score is the mean of the per-image "All" F-scores (NaN if any image has none, as numpy gives).
Result<MetricResult> spice(const EvalSet& set, const JavaTools& tools);

} // namespace esper
