// `esper eval`: pairs candidates with references across dataset formats and scores each style
// the way the COCO toolkit (and ESPER's ESP evaluation) does.
#pragma once

#include "datasets/caption_dataset.h"
#include "metrics/eval_set.h"
#include "metrics/java_metrics.h"
#include "scoring/dataset_clip_score.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace esper {

struct EvalOptions {
    bool ptb = true;                 // tokenise raw captions as the toolkit does
    std::string split;               // keep only references of this (Karpathy) split
    std::vector<std::string> styles; // only these candidate styles (all when empty)
    // ESPER's ESP convention: references cut to the first N GPT-2 tokens (0: off).
    std::function<std::string(const std::string&)> truncateReference;
    bool meteor = false, spice = false;
    JavaTools java;
    // CLIP-S / RefCLIP-S on the raw captions, when a scorer and an image decoder are given.
    ClipScorer* clip = nullptr;
    ImageLoader loadImage;
    std::string imageRoot;    // where relative image paths start (default: the references')
    bool photoPrefix = false; // clipscore.py's "A photo depicts " (ESPER scores without it)
};

struct StyleEvaluation {
    std::string style; // "" for plain captions
    EvalSet set;       // after tokenisation, in reference order
    std::vector<MetricResult> metrics;
    std::map<std::string, std::string> notComputed; // metric -> why
    std::vector<std::string> warnings;              // e.g. captions cut for the metrics
};

struct Evaluation {
    std::vector<StyleEvaluation> styles;
    size_t unmatchedCandidates = 0; // candidates whose image the references lack
};

Result<Evaluation> evaluateDatasets(const CaptionDataset& references,
                                    const CaptionDataset& candidates, const EvalOptions& options);

// A fixed-width table, one row per style, metrics as columns (4 decimals).
std::string evaluationTable(const Evaluation& e);
// {styles: {style: {images, Bleu_1, ..., not_computed: {...}}}, unmatched_candidates}
std::string evaluationJson(const Evaluation& e);
// One JSON line per image and style with its per-image scores.
std::string perImageJsonl(const Evaluation& e);

} // namespace esper
