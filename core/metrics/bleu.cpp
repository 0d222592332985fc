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
    for (const auto& item : set) {
        std::unordered_map<std::string, int> refMax;
        std::vector<int> refLens;
        for (const auto& r : item.references) {
            const auto words = splitWhitespace(r);
            refLens.push_back(static_cast<int>(words.size()));
            for (const auto& [key, n] : countNgrams(words, kOrders).entries)
                refMax[key] = std::max(refMax[key], n);
        }
        const auto words = splitWhitespace(item.candidate);
        const int testLen = static_cast<int>(words.size());
        // min((|l - c|, l)): the closest length, the shorter one on a tie.
        int refLen = refLens.empty() ? 0 : refLens[0];
        for (int l : refLens)
            if (std::abs(l - testLen) < std::abs(refLen - testLen) ||
                (std::abs(l - testLen) == std::abs(refLen - testLen) && l < refLen))
                refLen = l;
        std::array<double, kOrders> correct{}, guess{};
        const auto counts = countNgrams(words, kOrders);
        for (size_t i = 0; i < counts.entries.size(); ++i) {
            auto it = refMax.find(counts.entries[i].first);
            correct[counts.order(i) - 1] +=
                std::min(it == refMax.end() ? 0 : it->second, counts.entries[i].second);
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
