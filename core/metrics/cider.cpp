#include "metrics/cider.h"

#include "metrics/ngrams.h"

#include <array>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace esper {
namespace {

constexpr int kOrders = 4;
constexpr double kSigma = 6.0;

struct TfIdf {
    std::array<std::vector<std::pair<const std::string*, double>>, kOrders> terms; // in order
    std::array<std::unordered_map<std::string, double>, kOrders> lookup;
    std::array<double, kOrders> norm{};
    int length = 0; // bigram occurrences: the code's length quirk
};

TfIdf vectorize(const NgramCounts& counts, const std::unordered_map<std::string, int>& df,
                double logImages) {
    TfIdf v;
    for (size_t i = 0; i < counts.entries.size(); ++i) {
        const auto& [key, tf] = counts.entries[i];
        const int n = counts.order(i) - 1;
        auto it = df.find(key);
        const double idf = logImages - std::log(std::max(1.0, it == df.end() ? 0.0 : it->second));
        const double value = static_cast<double>(tf) * idf;
        v.terms[n].emplace_back(&key, value);
        v.lookup[n][key] = value;
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
    std::vector<std::vector<NgramCounts>> refs;
    std::unordered_map<std::string, int> df;
    for (const auto& item : set) {
        refs.emplace_back();
        std::unordered_set<std::string> seen;
        for (const auto& r : item.references) {
            refs.back().push_back(countNgrams(splitWhitespace(r), kOrders));
            for (const auto& [key, n] : refs.back().back().entries)
                seen.insert(key);
        }
        for (const auto& key : seen)
            ++df[key];
    }
    const double logImages = std::log(static_cast<double>(set.size()));
    double sum = 0;
    for (size_t i = 0; i < set.size(); ++i) {
        const NgramCounts candCounts = countNgrams(splitWhitespace(set[i].candidate), kOrders);
        const TfIdf cand = vectorize(candCounts, df, logImages);
        std::array<double, kOrders> score{};
        for (const auto& refCounts : refs[i]) {
            const TfIdf ref = vectorize(refCounts, df, logImages);
            const double delta = static_cast<double>(cand.length - ref.length);
            for (int n = 0; n < kOrders; ++n) {
                double val = 0;
                for (const auto& [key, value] : cand.terms[n]) {
                    auto it = ref.lookup[n].find(*key);
                    const double r = it == ref.lookup[n].end() ? 0.0 : it->second;
                    val += std::min(value, r) * r;
                }
                if (cand.norm[n] != 0 && ref.norm[n] != 0) val /= (cand.norm[n] * ref.norm[n]);
                val *= std::pow(M_E, -(delta * delta) / (2 * kSigma * kSigma));
                score[n] += val;
            }
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
