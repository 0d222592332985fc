#include "training/esper/ppo_update.h"

#include "training/esper/ppo_math.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace esper {
namespace {

// Running means of the minibatches' figures.
class Means {
public:
    void add(const std::string& name, double value) {
        auto& [sum, n] = sums_[name];
        sum += value;
        ++n;
    }
    void into(std::map<std::string, double>& out) const {
        for (const auto& [name, s] : sums_)
            out[name] = s.first / s.second;
    }

private:
    std::map<std::string, std::pair<double, int>> sums_;
};

} // namespace

PpoUpdate ppoUpdate(const EsperConfig& c, const EsperModels& models, const EpisodeBatch& e,
                    bool klOnly, HelperThread& helper, OptimizerSteps& optimizer,
                    std::mt19937_64& rng) {
    const int64_t m = c.minibatchSize();
    const auto device = models.compute.device;
    Means means;
    double firstRatioDeviation = 0;
    for (int epoch = 0; epoch < c.ppoEpochs; ++epoch) {
        const at::Tensor order = epoch == 0 ? e.firstEpochOrder : drawPermutation(c.batchSize, rng);
        for (int64_t chunk = 0; chunk < c.minibatches; ++chunk) {
            const at::Tensor idx = order.slice(0, chunk * m, (chunk + 1) * m);
            const at::Tensor onDevice = idx.to(device);
            // The minibatch's rows, cut to their longest response.
            const ResponseBatch rows = e.batch.select(idx);
            const int64_t width = rows.responseIds.size(1);
            auto cut = [&](const at::Tensor& t) {
                return t.index_select(0, onDevice).narrow(1, 0, width);
            };
            const at::Tensor mask = cut(e.mask);
            const at::Tensor oldLogprobs = cut(e.oldLogprobs);
            const at::Tensor oldValues = cut(e.oldValues);
            const at::Tensor features = e.features.index_select(0, idx);
            at::Tensor advantages, returns;
            {
                c10::NoGradGuard noGrad;
                if (c.usesValueModel()) {
                    at::Tensor rewards = cut(e.rewards);
                    if (c.whitenRewards)
                        rewards = ppo::whiten(rewards, mask, false, c.whitenSqrtStd);
                    auto a = ppo::generalisedAdvantages(rewards, oldValues, mask, c.gamma, c.lambda,
                                                        c.whitenSqrtStd);
                    advantages = a.advantages;
                    returns = a.returns;
                } else {
                    advantages = ppo::whiten(cut(e.groupAdvantages), mask, true, c.whitenSqrtStd);
                }
            }
            optimizer.zeroGrad();
            // Each half writes only its own figures; they are added after both have ended.
            double valueLoss = 0, valueClip = 0, explained = 0;
            double policyLoss = 0, policyClip = 0, approxKl = 0, entropy = 0, klLoss = 0,
                   entropyLoss = 0;
            helper.runBeside(
                [&] {
                    if (!c.usesValueModel()) return;
                    const at::Tensor values = models.values(features, rows) * mask;
                    const auto v =
                        ppo::clippedValueLoss(values, oldValues, returns, mask, c.valueClipRange);
                    (c.vfCoef * v.loss).backward();
                    valueLoss = v.loss.item<double>();
                    valueClip = v.clipFraction;
                    explained = ppo::explainedVariance(values, returns, mask);
                },
                [&] {
                    const auto scores = models.policyScores(features, rows);
                    const at::Tensor logprobs = ppo::maskPad(scores.logprobs, mask);
                    const auto pg = ppo::clippedPolicyLoss(logprobs, oldLogprobs, advantages, mask,
                                                           c.clipRange);
                    at::Tensor loss = klOnly ? at::zeros({}) : c.pgCoef * pg.loss;
                    if (c.supervisedKl) {
                        const at::Tensor kl =
                            ppo::supervisedKlLoss(logprobs, cut(e.refLogprobs), mask,
                                                  *c.supervisedKl, c.supervisedKlCoef);
                        klLoss = kl.item<double>();
                        loss = loss + kl;
                    }
                    if (c.entropyLoss) {
                        const at::Tensor ent =
                            ppo::entropyLoss(logprobs, mask, c.entropyThreshold, c.entropyCoef);
                        entropyLoss = ent.item<double>();
                        loss = loss + ent;
                    }
                    if (loss.requires_grad()) loss.backward();
                    policyLoss = pg.loss.item<double>();
                    policyClip = pg.clipFraction;
                    approxKl = ppo::approxKl(logprobs, oldLogprobs, mask);
                    entropy = ppo::maskedMean(scores.entropy.detach(), mask).item<double>();
                    if (epoch == 0 && chunk == 0)
                        firstRatioDeviation = ((logprobs.detach() - oldLogprobs).exp() - 1)
                                                  .mul(mask)
                                                  .abs()
                                                  .max()
                                                  .item<double>();
                },
                c.parallel && c.usesValueModel());
            optimizer.step();
            means.add("loss_policy", policyLoss);
            means.add("loss_value", valueLoss);
            means.add("loss_kl", klLoss);
            means.add("loss_entropy", entropyLoss);
            means.add("loss", (klOnly ? 0.0 : c.pgCoef * policyLoss) + c.vfCoef * valueLoss +
                                  klLoss + entropyLoss);
            means.add("clip_fraction", policyClip);
            means.add("approx_kl", approxKl);
            if (c.usesValueModel()) {
                means.add("value_clip_fraction", valueClip);
                means.add("explained_variance", explained);
            }
            means.add("policy_entropy", entropy);
        }
    }
    PpoUpdate out;
    means.into(out.metrics);
    out.loss = out.metrics["loss"];
    out.metrics["first_ratio_deviation"] = firstRatioDeviation;
    return out;
}

} // namespace esper
