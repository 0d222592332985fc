// `esper world build-demo`: the bundled demo model made from nothing on this machine: the
// project's CLIP and GPT-2 trained on the synthetic world, the supervised mapper between them,
// assembled as an ESPER bundle and evaluated with the caption checker.
#pragma once

#include "util/result.h"

#include <atomic>
#include <functional>
#include <string>

namespace esper {

struct DemoBuildOptions {
    std::string outDir; // becomes a bundle: esper.json, clip/, lm/, mapper.safetensors
    uint64_t worldSeed = 1;
    int clipSteps = 1500, lmSteps = 800, mapperSteps = 2000;
    int evalScenes = 200;
    uint64_t seed = 1;
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(const std::string&)> onStage; // "clip: step 10/1500 ..." lines
};

struct DemoBuildReport {
    double clipRetrievalTop1 = 0; // among 100 held-out scenes (chance 1 %)
    double lmPerplexity = 0;      // held-out, per token
    double mapperFirstLoss = 0, mapperLastLoss = 0;
    double frozenLmF1 = 0;     // mapper trained with the LM frozen (ClipCap's MLP baseline)
    double supervisedF1 = 0;   // mapper trained with the LM fine-tuned: the shipped bundle
    double randomMapperF1 = 0; // the same with a freshly initialised mapper: the floor
    double seconds = 0;
    std::string json() const;
};

Result<DemoBuildReport> buildDemo(const DemoBuildOptions& options);
// Object F1 (caption checker) of a bundle's greedy `caption:` captions on held-out scenes.
Result<double> bundleAttributeF1(const std::string& bundleDir, uint64_t worldSeed,
                                 uint64_t firstScene, int scenes);

} // namespace esper
