// Supervised fine-tuning of a bundle's mapper on the user's own (image, caption) pairs: teacher
// forcing through the frozen language model, CLIP frozen, as the world's supervised trainer
// does, but on any images and captions (a review set's accepted and edited captions, a COCO
// file, a sidecar folder). Writes a complete bundle.
#pragma once

#include "image/rgb_image.h"
#include "training/framework/train_loop.h"
#include "util/result.h"

#include <functional>
#include <string>
#include <vector>

namespace esper {

struct CaptionPair {
    std::string image;   // a file the caller's decodeImage reads
    std::string caption; // what the model should write
    std::string style;   // its style prompt ("caption" -> "caption:"); empty: none
};

struct PairFinetuneOptions {
    std::string bundleDir; // START: CLIP, the LM and the starting mapper
    std::string outDir;    // OUT: the fine-tuned bundle
    std::string modelsDir; // where START's model ids resolve (default: defaultModelsDir())
    std::vector<CaptionPair> pairs;
    std::function<Result<RgbImage>(const std::string&)> decodeImage;
    bool randomMapper = false; // start from a fresh mapper instead of START's
    std::string device = "cpu";
    // steps, batch, rate, warm-up, seed, log, checkpoint, resume, cancel, progress
    TrainSettings train;
    std::function<void(const std::string&)> onMessage;
};

struct PairFinetuneReport : TrainSummary {
    int pairs = 0, images = 0;
    // The mean teacher-forced loss of all the pairs' captions, before and after: how much
    // closer the model now writes them.
    double pairLossBefore = 0, pairLossAfter = 0;
    std::vector<std::string> skippedImages; // "path: why"
};

Result<PairFinetuneReport> finetuneOnPairs(const PairFinetuneOptions& options);

// The defaults for a few dozen to a few thousand pairs (a mapper learns fast at this rate).
TrainSettings pairFinetuneDefaults();

} // namespace esper
