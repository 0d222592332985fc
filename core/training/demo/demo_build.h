// `esper world build-demo`: the bundled demo model made from nothing on this machine: the
// project's CLIP and GPT-2 trained on the synthetic world, the supervised mapper between them
// (the language model frozen, as in ClipCap's baseline), assembled as an ESPER bundle and
// evaluated on held-out scenes with the caption checker.
#pragma once

#include "util/result.h"
#include "world/clip_probes.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace esper {

struct DemoBuildOptions {
    std::string outDir; // becomes a bundle: esper.json, clip/, lm/, mapper.safetensors
    uint64_t worldSeed = 1;
    // CLIP is the long pole, and what it learns per second follows its batch, whose other
    // scenes are each text's negatives; the mapper neither gives up steps nor gains from more
    // (docs/world.md, "What we tried").
    int clipSteps = 1500, clipBatch = 256, lmSteps = 8000, mapperSteps = 6000;
    int lmWidth = 64, lmLayers = 2; // the LM trains beside CLIP: its size sets its steps per second
    // Whether a small LM learns to copy from its context varies from seed to seed: when an LM
    // copies less than lmCopies on validation
    // scenes (which neither training nor the evaluation uses), the next seed trains on the core
    // CLIP leaves free, up to lmCandidates LMs, and the one that copies best is kept.
    int lmCandidates = 2;
    double lmCopies = 0.4; // between the copy F1 of LMs that copy and of those that do not
    int evalScenes = 200;
    uint64_t seed = 1;
    // Continue an interrupted build from its checkpoints (OUT/.work) instead of starting over.
    bool resume = false;
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(const std::string&)> onStage; // "clip: step 10/1500 ..." lines
};

struct DemoBuildReport {
    double clipRetrievalTop1 = 0; // among 100 held-out scenes (chance 1 %), mean of 10 groups
    world::ClipAttributeProbe clipAttributes;         // what CLIP tells apart: shape, size, colour
    double lmPerplexity = 0;                          // held-out, per token
    double lmContextLoss = 0, lmOtherContextLoss = 0; // see LmPretrainReport
    double lmCopyF1 = 0, lmCopySizeAccuracy = 0;      // what the LM carries from a text
    double lmSummaryF1 = 0;                // ... and from object summaries, on validation scenes
    std::vector<double> lmCandidateCopyF1; // each candidate's, on validation scenes
    int lmChosen = 0;                      // the candidate kept (0-based)
    double mapperFirstLoss = 0, mapperLastLoss = 0;
    // Held-out teacher-forced loss with each text's own image and with another scene's.
    double mapperHeldOutLoss = 0, mapperHeldOutMismatchedLoss = 0;
    double captionF1 = 0;      // object F1 of `caption:` captions with the trained mapper
    double meanStyleF1 = 0;    // the same averaged over every style
    double randomMapperF1 = 0; // `caption:` with a freshly initialised mapper: the floor
    std::string evaluation;    // the trained bundle's world evaluation (JSON), per style
    double seconds = 0;
    std::string json() const;
};

Result<DemoBuildReport> buildDemo(const DemoBuildOptions& options);

} // namespace esper
