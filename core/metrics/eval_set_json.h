// The evaluation-set JSON people pass to `esper metrics`: {"refs": {image: [caption, ...]},
// "cands": {image: caption}}; other keys are ignored, image order follows "refs".
#pragma once

#include "metrics/eval_set.h"
#include "util/input_limits.h"
#include "util/result.h"

#include <string>
#include <vector>

namespace esper {

Result<EvalSet> parseEvalSetJson(const std::string& text, const std::string& origin);
// Tokenises every reference and candidate as the COCO toolkit does (references and candidates
// in two separate batches, as its two Java runs see them).
void ptbTokenizeSet(EvalSet& set);
// {Bleu_1..Bleu_4, ROUGE_L, CIDEr, per_image: {image: {...}}} at full precision.
std::string metricsToJson(const EvalSet& set, const std::vector<MetricResult>& results);
// Cuts every candidate and reference to `maxTokens` space-separated tokens (ROUGE-L is quadratic
// in length); returns how many were cut, for a warning.
size_t capCaptionLengths(EvalSet& set, size_t maxTokens = kMaxMetricTokens);
std::string capWarning(size_t cut); // "3 caption(s) longer than 1024 tokens were cut ..."
// BLEU-1..4, ROUGE-L and CIDEr-D in pycocoevalcap's order.
std::vector<MetricResult> computeTextMetrics(const EvalSet& set);

} // namespace esper
