#include "metrics/bleu.h"

#include "metrics/ngrams.h"

#include <cmath>
#include <cstdlib>
#include <unordered_map>

namespace esper {
namespace {
constexpr int kOrders = 4;
constexpr double kTiny = 1e-15, kSmall = 1e-9;

// Multiplies the running product of clipped precisions, as bleu_scorer does, into BLEU-1..4.
std::array<double, kOrders> combine(const std::array<double, kOrders>& correct,
                                    const std::array<double, kOrders>& guess, double testLen,
                                    double refLen) {
    std::array<double, kOrders> out{};
    double product = 1.0;
    for (int k = 0; k < kOrders; ++k) {
        product *= (correct[k] + kTiny) / (guess[k] + kSmall);
        out[k] = std::pow(product, 1.0 / (k + 1));
    }
    const double ratio = (testLen + kTiny) / (refLen + kSmall);
    if (ratio < 1)
        for (auto& b : out)
            b *= std::exp(1 - 1 / ratio);
    return out;
}
} // namespace

std::array<MetricResult, 4> bleu(const EvalSet& set) {
    std::array<MetricResult, 4> results;
    for (int k = 0; k < kOrders; ++k)
        results[k].name = "Bleu_" + std::to_string(k + 1);
    std::array<double, kOrders> totalCorrect{}, totalGuess{};
    double totalTest = 0, totalRef = 0;
    NgramVocabulary vocab;
    std::unordered_map<int, int> refMax;
    for (const auto& item : set) {
        refMax.clear();
        std::vector<int> refLens;
        for (const auto& r : item.references) {
            refLens.push_back(static_cast<int>(splitWhitespace(r).size()));
            for (const auto& [id, n] : countNgrams(r, kOrders, vocab).entries) {
                int& best = refMax[id];
                best = std::max(best, n);
            }
        }
        const int testLen = static_cast<int>(splitWhitespace(item.candidate).size());
        // min((|l - c|, l)): the closest length, the shorter one on a tie.
        int refLen = refLens.empty() ? 0 : refLens[0];
        for (int l : refLens)
            if (std::abs(l - testLen) < std::abs(refLen - testLen) ||
                (std::abs(l - testLen) == std::abs(refLen - testLen) && l < refLen))
                refLen = l;
        std::array<double, kOrders> correct{}, guess{};
        for (const auto& [id, n] : countNgrams(item.candidate, kOrders, vocab).entries) {
            auto it = refMax.find(id);
            correct[vocab.order(id) - 1] += std::min(it == refMax.end() ? 0 : it->second, n);
        }
        for (int k = 0; k < kOrders; ++k) {
            guess[k] = std::max(0, testLen - k);
            totalCorrect[k] += correct[k];
            totalGuess[k] += guess[k];
        }
        totalTest += testLen;
        totalRef += refLen;
        const auto perImage = combine(correct, guess, testLen, refLen);
        for (int k = 0; k < kOrders; ++k)
            results[k].perImage.push_back(perImage[k]);
    }
    const auto corpus = combine(totalCorrect, totalGuess, totalTest, totalRef);
    for (int k = 0; k < kOrders; ++k)
        results[k].corpus = corpus[k];
    return results;
}

} // namespace esper
