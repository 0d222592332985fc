#include "metrics/cider.h"

#include "metrics/ngrams.h"

#include <array>
#include <cmath>
#include <unordered_set>

namespace esper {
namespace {

constexpr int kOrders = 4;
constexpr double kSigma = 6.0;

struct TfIdf {
    std::array<std::vector<std::pair<int, double>>, kOrders> terms; // first-occurrence order
    std::array<double, kOrders> norm{};
    int length = 0; // bigram occurrences: the code's length quirk
};

TfIdf vectorize(const NgramCounts& counts, const NgramVocabulary& vocab, const std::vector<int>& df,
                double logImages) {
    TfIdf v;
    for (const auto& [id, tf] : counts.entries) {
        const int n = vocab.order(id) - 1;
        const double docs = static_cast<size_t>(id) < df.size() ? df[id] : 0.0;
        const double value = static_cast<double>(tf) * (logImages - std::log(std::max(1.0, docs)));
        v.terms[n].emplace_back(id, value);
        v.norm[n] += std::pow(value, 2);
        if (n == 1) v.length += tf;
    }
    for (auto& x : v.norm)
        x = std::sqrt(x);
    return v;
}

} // namespace

MetricResult ciderD(const EvalSet& set) {
    MetricResult result{"CIDEr", 0, {}};
    NgramVocabulary vocab;
    std::vector<std::vector<NgramCounts>> refs;
    std::vector<int> df;
    std::unordered_set<int> seen;
    for (const auto& item : set) {
        refs.emplace_back();
        seen.clear();
        for (const auto& r : item.references) {
            refs.back().push_back(countNgrams(r, kOrders, vocab));
            for (const auto& [id, n] : refs.back().back().entries)
                seen.insert(id);
        }
        df.resize(vocab.size(), 0);
        for (int id : seen)
            ++df[id];
    }
    const double logImages = std::log(static_cast<double>(set.size()));
    // The reference's values by n-gram id, filled and cleared per reference.
    std::vector<double> refValue;
    double sum = 0;
    for (size_t i = 0; i < set.size(); ++i) {
        const TfIdf cand =
            vectorize(countNgrams(set[i].candidate, kOrders, vocab), vocab, df, logImages);
        refValue.resize(vocab.size(), 0.0);
        std::array<double, kOrders> score{};
        for (const auto& refCounts : refs[i]) {
            const TfIdf ref = vectorize(refCounts, vocab, df, logImages);
            for (const auto& terms : ref.terms)
                for (const auto& [id, value] : terms)
                    refValue[id] = value;
            const double delta = static_cast<double>(cand.length - ref.length);
            for (int n = 0; n < kOrders; ++n) {
                double val = 0;
                for (const auto& [id, value] : cand.terms[n])
                    val += std::min(value, refValue[id]) * refValue[id];
                if (cand.norm[n] != 0 && ref.norm[n] != 0) val /= (cand.norm[n] * ref.norm[n]);
                val *= std::pow(M_E, -(delta * delta) / (2 * kSigma * kSigma));
                score[n] += val;
            }
            for (const auto& terms : ref.terms)
                for (const auto& [id, value] : terms)
                    refValue[id] = 0.0;
        }
        double mean = 0;
        for (double s : score)
            mean += s;
        mean /= kOrders;
        mean /= static_cast<double>(set[i].references.size());
        mean *= 10.0;
        result.perImage.push_back(mean);
        sum += mean;
    }
    result.corpus = set.empty() ? 0.0 : sum / static_cast<double>(set.size());
    return result;
}

} // namespace esper
