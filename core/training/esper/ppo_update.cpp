#include "training/esper/ppo_update.h"

#include "training/esper/ppo_math.h"
#include "training/framework/sharded_gradients.h"

#include <ATen/ATen.h>
#include <array>
#include <c10/core/GradMode.h>

namespace esper {
namespace {

// A minibatch's policy figures, each already scaled to its half's share of the minibatch.
struct PolicyFigures {
    double policyLoss = 0, klLoss = 0, entropyLoss = 0, clipFraction = 0, approxKl = 0, entropy = 0,
           ratioDeviation = 0;
    PolicyFigures operator+(const PolicyFigures& o) const {
        return {policyLoss + o.policyLoss,
                klLoss + o.klLoss,
                entropyLoss + o.entropyLoss,
                clipFraction + o.clipFraction,
                approxKl + o.approxKl,
                entropy + o.entropy,
                std::max(ratioDeviation, o.ratioDeviation)};
    }
};

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
    ShardedGradients policyGradients(models.policy.weights->parameters());
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
            // The policy in its two row halves (as the old pass computed it), each half's terms
            // scaled to its share of the minibatch so that they add up to the minibatch's.
            const double tokens = mask.sum().item<double>();
            const auto halves = rowHalves(idx);
            std::array<PolicyFigures, 2> figures;
            ShardedStep step;
            step.shards = 2;
            step.forward = [&](int h) {
                // The half's rows are a slice of the minibatch's, cut to their longest response.
                const at::Tensor& part = halves[size_t(h)];
                const int64_t from = h == 0 ? 0 : halves[0].size(0);
                const ResponseBatch sub = e.batch.select(part);
                const int64_t w = sub.responseIds.size(1);
                auto take = [&](const at::Tensor& t) {
                    return t.narrow(0, from, part.size(0)).narrow(1, 0, w);
                };
                const at::Tensor subMask = take(mask);
                const double share = subMask.sum().item<double>() / tokens;
                const double rowShare = double(part.size(0)) / double(idx.size(0));
                const auto scores = models.policyScores(e.features.index_select(0, part), sub);
                const at::Tensor logprobs = ppo::maskPad(scores.logprobs, subMask);
                const at::Tensor oldHalf = take(oldLogprobs);
                const auto pg = ppo::clippedPolicyLoss(logprobs, oldHalf, take(advantages), subMask,
                                                       c.clipRange);
                PolicyFigures& f = figures[size_t(h)];
                at::Tensor loss = (klOnly ? at::zeros({}) : c.pgCoef * pg.loss) * share;
                if (c.supervisedKl) {
                    const at::Tensor kl =
                        ppo::supervisedKlLoss(logprobs, take(cut(e.refLogprobs)), subMask,
                                              *c.supervisedKl, c.supervisedKlCoef) *
                        rowShare;
                    f.klLoss = kl.item<double>();
                    loss = loss + kl;
                }
                if (c.entropyLoss) {
                    const at::Tensor ent =
                        ppo::entropyLoss(logprobs, subMask, c.entropyThreshold, c.entropyCoef) *
                        rowShare;
                    f.entropyLoss = ent.item<double>();
                    loss = loss + ent;
                }
                f.policyLoss = pg.loss.item<double>() * share;
                f.clipFraction = pg.clipFraction * share;
                f.approxKl = ppo::approxKl(logprobs, oldHalf, subMask) * share;
                f.entropy =
                    ppo::maskedMean(scores.entropy.detach(), subMask).item<double>() * share;
                f.ratioDeviation = ((logprobs.detach() - oldHalf).exp() - 1)
                                       .mul(subMask)
                                       .abs()
                                       .max()
                                       .item<double>();
                return std::vector<at::Tensor>{loss};
            };
            step.loss = [](const std::vector<std::vector<at::Tensor>>& parts) {
                return parts[0][0] + parts[1][0];
            };
            // Each side writes only its own figures; they are added after both have ended.
            double valueLoss = 0, valueClip = 0, explained = 0;
            if (c.usesValueModel()) {
                step.parallel = false; // the value model has the other core
                helper.runBeside(
                    [&] {
                        const at::Tensor values = models.values(features, rows) * mask;
                        const auto v = ppo::clippedValueLoss(values, oldValues, returns, mask,
                                                             c.valueClipRange);
                        (c.vfCoef * v.loss).backward();
                        valueLoss = v.loss.item<double>();
                        valueClip = v.clipFraction;
                        explained = ppo::explainedVariance(values, returns, mask);
                    },
                    [&] { policyGradients.step(step); }, c.parallel);
            } else {
                step.parallel = c.parallel;
                policyGradients.step(step);
            }
            const PolicyFigures f = figures[0] + figures[1];
            const double policyLoss = f.policyLoss, klLoss = f.klLoss, entropyLoss = f.entropyLoss;
            const double policyClip = f.clipFraction, approxKl = f.approxKl, entropy = f.entropy;
            if (epoch == 0 && chunk == 0)
                firstRatioDeviation =
                    std::max(figures[0].ratioDeviation, figures[1].ratioDeviation);
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
