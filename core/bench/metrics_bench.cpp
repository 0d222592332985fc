#include "bench/metrics_bench.h"

#include "metrics/bleu.h"
#include "metrics/cider.h"
#include "metrics/rouge.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace esper {
namespace {

// Captions of 8-14 words from an 800-word vocabulary, Zipf-like so n-grams repeat as in real
// captions.
std::string sentence(std::mt19937& rng) {
    std::uniform_int_distribution<int> length(8, 14);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::string s;
    for (int i = 0, n = length(rng); i < n; ++i) {
        const int word = static_cast<int>(800 * u(rng) * u(rng));
        s += (i ? " w" : "w") + std::to_string(word);
    }
    return s;
}

template <class F> double medianMs(int repeats, F&& f) {
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace

MetricsBenchResult benchTextMetrics(int images, int references, int repeats) {
    std::mt19937 rng(7);
    EvalSet set;
    for (int i = 0; i < images; ++i) {
        EvalItem item{std::to_string(i), {}, sentence(rng)};
        for (int r = 0; r < references; ++r)
            item.references.push_back(sentence(rng));
        set.push_back(std::move(item));
    }
    MetricsBenchResult out{images, references};
    out.bleuMs = medianMs(repeats, [&] { (void)bleu(set); });
    out.rougeMs = medianMs(repeats, [&] { (void)rougeL(set); });
    out.ciderMs = medianMs(repeats, [&] { (void)ciderD(set); });
    return out;
}

} // namespace esper
