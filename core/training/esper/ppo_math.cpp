#include "training/esper/ppo_math.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <set>
#include <tuple>

namespace esper::ppo {

at::Tensor maskedSum(const at::Tensor& x, const at::Tensor& mask) {
    return (x * mask).sum();
}

at::Tensor maskedMean(const at::Tensor& x, const at::Tensor& mask) {
    return (x * mask).sum() / mask.sum();
}

at::Tensor maskedStd(const at::Tensor& x, const at::Tensor& mask) {
    return at::sqrt(maskedMean(x * x, mask) - maskedMean(x, mask).square());
}

at::Tensor rowSums(const at::Tensor& x, const at::Tensor& mask) {
    return (x * mask).sum(1);
}

at::Tensor whiten(const at::Tensor& x, const at::Tensor& mask, bool shiftMean, bool sqrtStdQuirk) {
    const at::Tensor mean = maskedMean(x, mask);
    const at::Tensor spread = maskedStd(x, mask);
    const at::Tensor scale =
        sqrtStdQuirk ? at::rsqrt(spread + 1e-8) : at::rsqrt(spread.square() + 1e-8);
    at::Tensor out = (x - mean) * scale;
    if (!shiftMean) out = out + mean;
    return out;
}

Advantages generalisedAdvantages(const at::Tensor& rewards, const at::Tensor& values,
                                 const at::Tensor& mask, double gamma, double lambda,
                                 bool sqrtStdQuirk) {
    // The official right-to-left loop A_t = δ_t + γλ·A_{t+1} is A_t = Σ_{k>=t} (γλ)^(k-t)·δ_k:
    // one product with an upper-triangular matrix instead of T steps of small operations.
    const int64_t t = rewards.size(1);
    const at::Tensor next =
        at::cat({values.narrow(1, 1, t - 1), at::zeros_like(values.narrow(1, 0, 1))}, 1);
    const at::Tensor delta = rewards + gamma * next - values;
    const at::Tensor k = at::arange(t, rewards.options()).unsqueeze(1);
    const at::Tensor from = at::arange(t, rewards.options()).unsqueeze(0);
    const at::Tensor weights =
        at::where(k >= from, at::pow(gamma * lambda, k - from), at::zeros({}, rewards.options()));
    const at::Tensor advantages = at::matmul(delta, weights);
    return {whiten(advantages, mask, true, sqrtStdQuirk), advantages + values};
}

at::Tensor groupAdvantages(const at::Tensor& rewards, const at::Tensor& mask, int64_t groupSize) {
    const at::Tensor returns = rowSums(rewards, mask).view({-1, groupSize});
    const at::Tensor others = (returns.sum(1, true) - returns) / double(groupSize - 1);
    return (returns - others).reshape({-1, 1}) * mask;
}

at::Tensor maskPad(const at::Tensor& x, const at::Tensor& mask) {
    return x * mask + kMaskedLogprob * (1 - mask);
}

at::Tensor timeAxisKl(const at::Tensor& logprobs, const at::Tensor& refLogprobs) {
    const at::Tensor q = at::log_softmax(logprobs, 1);
    const at::Tensor p = at::log_softmax(refLogprobs, 1);
    return 0.5 * at::exp(p) * (p - q);
}

at::Tensor supervisedKlLoss(const at::Tensor& logprobs, const at::Tensor& refLogprobs,
                            const at::Tensor& mask, double threshold, double coef) {
    const at::Tensor kl = (timeAxisKl(logprobs, refLogprobs) - threshold).clamp_min(0) * coef;
    return rowSums(kl, mask).mean();
}

at::Tensor entropyLoss(const at::Tensor& logprobs, const at::Tensor& mask, double threshold,
                       double coef) {
    return (rowSums(-logprobs, mask) - threshold).clamp_min(0).mean() * coef;
}

at::Tensor fluencyRewards(const at::Tensor& refLogprobs, const at::Tensor& mask, double threshold,
                          double coef, double bias) {
    const at::Tensor m = mask.sum(1, true).clamp_min(1);
    const at::Tensor over = (-refLogprobs - threshold / m).clamp_min(0);
    return (-coef * over + bias / m) * mask;
}

double repetitionScore(const std::vector<int>& tokens) {
    const size_t n = tokens.size();
    std::set<std::tuple<int, int, int>> trigrams;
    std::set<std::pair<int, int>> bigrams;
    std::set<int> unigrams;
    for (size_t i = 0; i < n; ++i) {
        const int a = tokens[i], b = tokens[(i + 1) % n], c = tokens[(i + 2) % n];
        trigrams.insert({a, b, c});
        bigrams.insert({a, b});
        unigrams.insert(a);
    }
    const double s3 = double(n - trigrams.size()) * 4;
    const double s2 = double(n - bigrams.size()) * 2;
    const double s1 = std::min(double(n - unigrams.size()) - 1, 0.0);
    return -(s1 + s2 + s3);
}

at::Tensor tokenRewards(const at::Tensor& logprobs, const at::Tensor& refLogprobs,
                        const at::Tensor& fluency, const at::Tensor& lastToken,
                        const at::Tensor& mask, double klCoef) {
    at::Tensor rewards = -klCoef * (logprobs - refLogprobs) * mask + fluency;
    const at::Tensor last = (mask.sum(1) - 1).clamp_min(0).to(at::kLong);
    return rewards.scatter_add(1, last.unsqueeze(1), lastToken.to(rewards.dtype()).unsqueeze(1));
}

ClippedLoss clippedPolicyLoss(const at::Tensor& logprobs, const at::Tensor& oldLogprobs,
                              const at::Tensor& advantages, const at::Tensor& mask,
                              double clipRange) {
    const at::Tensor ratio = at::exp(logprobs - oldLogprobs);
    const at::Tensor p1 = -advantages * ratio;
    const at::Tensor p2 = -advantages * at::clamp(ratio, 1.0 - clipRange, 1.0 + clipRange);
    return {maskedMean(at::max(p1, p2), mask),
            maskedMean((p2 > p1).to(p1.dtype()), mask).item<double>()};
}

ClippedLoss clippedValueLoss(const at::Tensor& values, const at::Tensor& oldValues,
                             const at::Tensor& returns, const at::Tensor& mask, double clipRange) {
    const at::Tensor clipped =
        at::max(at::min(values, oldValues + clipRange), oldValues - clipRange);
    const at::Tensor v1 = (values - returns).square();
    const at::Tensor v2 = (clipped - returns).square();
    return {0.5 * maskedMean(at::max(v1, v2), mask),
            maskedMean((v2 > v1).to(v1.dtype()), mask).item<double>()};
}

double approxKl(const at::Tensor& logprobs, const at::Tensor& oldLogprobs, const at::Tensor& mask) {
    return 0.5 * maskedMean((logprobs.detach() - oldLogprobs).square(), mask).item<double>();
}

double explainedVariance(const at::Tensor& values, const at::Tensor& returns,
                         const at::Tensor& mask) {
    const at::Tensor v = values.detach();
    const double spread = maskedStd(returns, mask).square().item<double>();
    if (!(spread > 0)) return 0.0;
    return 1.0 - maskedStd(returns - v, mask).square().item<double>() / spread;
}

} // namespace esper::ppo
