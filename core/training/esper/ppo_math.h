// The arithmetic of ESPER's PPO step as the official trainer (JiwanChung/esper, lightning.py and
// utils/utils.py) computes it: masked statistics, whitening, generalised advantage estimation,
// the per-token rewards (KL to the reference, reference fluency, the goal and the repetition
// penalty at the last token), and the clipped policy, value, time-axis KL and entropy losses.
// Tensors are [B, T] over response tokens with a 0/1 mask [B, T]; masked entries never count.
#pragma once

#include <ATen/core/Tensor.h>
#include <vector>

namespace esper::ppo {

// What the official code writes where a token is masked (utils.constants.NEGATIVE_INF): the
// time-axis softmax of the supervised KL then gives those positions no weight.
constexpr double kMaskedLogprob = -100000.0;

at::Tensor maskedSum(const at::Tensor& x, const at::Tensor& mask); // scalar
at::Tensor maskedMean(const at::Tensor& x, const at::Tensor& mask);
// sqrt(E[x²] - E[x]²) over the masked entries (utils.reduce_std: the population deviation).
at::Tensor maskedStd(const at::Tensor& x, const at::Tensor& mask);
// Per-row sums and means over the masked entries: [B].
at::Tensor rowSums(const at::Tensor& x, const at::Tensor& mask);

// (x - mean) scaled to unit spread over the masked entries; with `shiftMean` false the mean is
// added back. The official `whiten` multiplies by rsqrt(std + 1e-8), dividing by the square root
// of the deviation rather than by the deviation; `sqrtStdQuirk` reproduces that, otherwise the
// division is by sqrt(variance + 1e-8).
at::Tensor whiten(const at::Tensor& x, const at::Tensor& mask, bool shiftMean, bool sqrtStdQuirk);

struct Advantages {
    at::Tensor advantages; // whitened (mean shifted to 0)
    at::Tensor returns;    // advantages before whitening + values
};
// GAE over each row, right to left, with V after the last token 0 (the official loop runs over
// every position; masked values and rewards are 0 there, which ends each row at its mask).
Advantages generalisedAdvantages(const at::Tensor& rewards, const at::Tensor& values,
                                 const at::Tensor& mask, double gamma, double lambda,
                                 bool sqrtStdQuirk);

// Each row's return (its rewards summed, γ = 1) less the mean return of the other rows of its
// group (rows [g·size, (g+1)·size) share an image), on each of its masked tokens: [B, T].
at::Tensor groupAdvantages(const at::Tensor& rewards, const at::Tensor& mask, int64_t groupSize);

// Where masked positions get kMaskedLogprob (utils.mask_pad).
at::Tensor maskPad(const at::Tensor& x, const at::Tensor& mask);

// The official "kl_without_sampling": log-softmax over the time axis (not the vocabulary) of
// the policy's and the reference's token log-probabilities, p = ref, q = policy, and per position
// 0.5·exp(p)(p - q). Inputs are mask-padded log-probabilities; returns [B, T].
at::Tensor timeAxisKl(const at::Tensor& logprobs, const at::Tensor& refLogprobs);
// mean over rows of Σ_t max(kl_t - threshold, 0) over the masked positions, times `coef`.
at::Tensor supervisedKlLoss(const at::Tensor& logprobs, const at::Tensor& refLogprobs,
                            const at::Tensor& mask, double threshold, double coef);
// coef · mean over rows of max(Σ_t -logπ(a_t) - threshold, 0).
at::Tensor entropyLoss(const at::Tensor& logprobs, const at::Tensor& mask, double threshold,
                       double coef);

// The reference-fluency reward E_t = -coef·max(0, -logπ_ref(a_t) - threshold/m) + bias/m with m
// the row's response length; 0 where masked.
at::Tensor fluencyRewards(const at::Tensor& refLogprobs, const at::Tensor& mask, double threshold,
                          double coef, double bias);

// The official GPT-tokenizer repetition score of one text's tokens, already negated: z holds
// each token with the next two (wrapping around the end), and the score is
// -(4·(repeated trigrams) + 2·(repeated bigrams) + min(repeated unigrams - 1, 0)). Multiply by
// the penalty coefficient (0.025): +0.025 for a text with no repeated token, -0.05 per repeated
// bigram and -0.1 per repeated trigram.
double repetitionScore(const std::vector<int>& tokens);

// Per-token rewards [B, T]: -β(logπ - logπ_ref) + fluency, plus `lastToken` [B] at each row's
// last masked position. Inputs are mask-padded log-probabilities (both masked alike).
at::Tensor tokenRewards(const at::Tensor& logprobs, const at::Tensor& refLogprobs,
                        const at::Tensor& fluency, const at::Tensor& lastToken,
                        const at::Tensor& mask, double klCoef);

struct ClippedLoss {
    at::Tensor loss; // with its graph
    double clipFraction = 0;
};
// PPO's clipped surrogate mean(max(-A·ρ, -A·clip(ρ, 1 ± clipRange))), ρ = exp(logπ - logπ_old).
ClippedLoss clippedPolicyLoss(const at::Tensor& logprobs, const at::Tensor& oldLogprobs,
                              const at::Tensor& advantages, const at::Tensor& mask,
                              double clipRange);
// 0.5·mean(max((V - R)², (clip(V, V_old ± clipRange) - R)²)).
ClippedLoss clippedValueLoss(const at::Tensor& values, const at::Tensor& oldValues,
                             const at::Tensor& returns, const at::Tensor& mask, double clipRange);
// 0.5·mean((logπ - logπ_old)²), the official approx-KL.
double approxKl(const at::Tensor& logprobs, const at::Tensor& oldLogprobs, const at::Tensor& mask);
// 1 - Var(R - V) / Var(R) over the masked entries.
double explainedVariance(const at::Tensor& values, const at::Tensor& returns,
                         const at::Tensor& mask);

} // namespace esper::ppo
