// CLIP-S and RefCLIP-S over an evaluation set, as clipscore.py reports them (per image and mean).
#pragma once

#include "metrics/eval_set.h"
#include "scoring/clip_scorer.h"

#include <functional>
#include <string>
#include <vector>

namespace esper {

// Decoding lives outside the engine; callers pass the media library's decoder.
using ImageLoader = std::function<Result<RgbImage>(const std::string& path)>;

struct DatasetClipScores {
    MetricResult clipS{"CLIP-S", 0, {}};
    MetricResult refClipS{"RefCLIP-S", 0, {}}; // empty perImage when no references
    size_t failedImages = 0; // unreadable images: NaN per image, left out of means
    std::string firstError;
};

// `set` holds raw (untokenised) captions; imagePaths[i] is set[i]'s image.
Result<DatasetClipScores> scoreDataset(ClipScorer& scorer, const EvalSet& set,
                                       const std::vector<std::string>& imagePaths,
                                       const ImageLoader& load, bool photoPrefix,
                                       size_t batchSize = 16);

} // namespace esper
