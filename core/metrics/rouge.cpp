#include "metrics/rouge.h"

#include <algorithm>
#include <cmath>

namespace esper {
namespace {

// Python's str.split(" "): every single space separates, so "" gives [""].
std::vector<std::string> splitSpaces(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t sp = s.find(' ', start);
        out.push_back(s.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
        if (sp == std::string::npos) return out;
        start = sp + 1;
    }
}

size_t lcs(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

} // namespace

MetricResult rougeL(const EvalSet& set) {
    const double beta2 = std::pow(1.2, 2.0);
    MetricResult result{"ROUGE_L", 0, {}};
    double sum = 0;
    for (const auto& item : set) {
        const auto cand = splitSpaces(item.candidate);
        double bestP = 0, bestR = 0;
        for (const auto& r : item.references) {
            const auto ref = splitSpaces(r);
            const double common = static_cast<double>(lcs(ref, cand));
            bestP = std::max(bestP, common / static_cast<double>(cand.size()));
            bestR = std::max(bestR, common / static_cast<double>(ref.size()));
        }
        const double f = (bestP != 0 && bestR != 0)
                             ? ((1 + beta2) * bestP * bestR) / (bestR + beta2 * bestP)
                             : 0.0;
        result.perImage.push_back(f);
        sum += f;
    }
    result.corpus = set.empty() ? 0.0 : sum / static_cast<double>(set.size());
    return result;
}

} // namespace esper
