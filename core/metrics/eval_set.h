// One evaluation set as the COCO caption toolkit sees it: per image, references and one
// candidate, all already tokenised (space-separated).
#pragma once

#include <string>
#include <vector>

namespace esper {

struct EvalItem {
    std::string id;
    std::vector<std::string> references;
    std::string candidate;
};

using EvalSet = std::vector<EvalItem>;

struct MetricResult {
    std::string name; // pycocoevalcap's name: Bleu_1..Bleu_4, ROUGE_L, CIDEr
    double corpus = 0;
    std::vector<double> perImage; // in EvalSet order
};

} // namespace esper
