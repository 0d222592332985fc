#include "training/esper/ppo_update.h"

#include "training/esper/ppo_math.h"
#include "training/framework/sharded_gradients.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <functional>

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

// Where one part's rows sit among a minibatch's: the rows, their batch cut to its own longest
// response, and any [minibatch, width] tensor's slice of them.
struct PartPlace {
    at::Tensor rows;
    ResponseBatch batch;
    int64_t from = 0;
    at::Tensor of(const at::Tensor& t) const {
        return t.narrow(0, from, rows.size(0)).narrow(1, 0, batch.responseIds.size(1));
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

Result<PpoUpdate> ppoUpdate(const EsperConfig& c, const EsperModels& models, const EpisodeBatch& e,
                            const RolloutParts& parts, bool klOnly, HelperThread& helper,
                            OptimizerSteps& optimizer, std::mt19937_64& rng) {
    const int64_t m = c.minibatchSize();
    const auto device = models.compute.device;
    const bool shared = parts.shared();
    // Every trained parameter: what the workers sum the gradients of.
    std::vector<at::Tensor> trained;
    for (const auto& group : models.parameterGroups(c))
        trained.insert(trained.end(), group.params.begin(), group.params.end());
    // Each step's figures, added into means once the workers' shares are summed (one exchange
    // for the whole update, not one per step).
    struct StepFigures {
        PolicyFigures policy;
        double valueLoss = 0, valueClip = 0, explained = 0;
    };
    std::vector<StepFigures> steps;
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
            // The policy in the minibatch's parts (as the old pass computed them), each part's
            // terms scaled to its share of the minibatch so that they add up to the minibatch's.
            const double tokens = mask.sum().item<double>();
            std::vector<int> computed; // this worker's parts that hold rows
            for (int p : parts.myParts())
                if (parts.slice(idx, p).size(0) > 0) computed.push_back(p);
            auto placeOf = [&](int p) {
                const at::Tensor rows = parts.slice(idx, p);
                return PartPlace{rows, e.batch.select(rows), parts.bounds(idx.size(0), p).first};
            };
            std::vector<PolicyFigures> figures(size_t(parts.parts()));
            ShardedStep step;
            step.shards = int(computed.size());
            step.forward = [&](int s) {
                const int p = computed[size_t(s)];
                const PartPlace place = placeOf(p);
                const at::Tensor& part = place.rows;
                auto take = [&](const at::Tensor& t) { return place.of(t); };
                const at::Tensor subMask = take(mask);
                const double share = subMask.sum().item<double>() / tokens;
                const double rowShare = double(part.size(0)) / double(idx.size(0));
                const auto scores =
                    models.policyScores(e.features.index_select(0, part), place.batch);
                const at::Tensor logprobs = ppo::maskPad(scores.logprobs, subMask);
                const at::Tensor oldPart = take(oldLogprobs);
                const auto pg = ppo::clippedPolicyLoss(logprobs, oldPart, take(advantages), subMask,
                                                       c.clipRange);
                PolicyFigures& f = figures[size_t(p)];
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
                f.approxKl = ppo::approxKl(logprobs, oldPart, subMask) * share;
                f.entropy =
                    ppo::maskedMean(scores.entropy.detach(), subMask).item<double>() * share;
                f.ratioDeviation = ((logprobs.detach() - oldPart).exp() - 1)
                                       .mul(subMask)
                                       .abs()
                                       .max()
                                       .item<double>();
                return std::vector<at::Tensor>{loss};
            };
            step.loss = [](const std::vector<std::vector<at::Tensor>>& pieces) {
                at::Tensor sum = pieces[0][0];
                for (size_t s = 1; s < pieces.size(); ++s)
                    sum = sum + pieces[s][0];
                return sum;
            };
            auto policyStep = [&] {
                if (!computed.empty()) policyGradients.step(step);
            };
            // Each side writes only its own figures; they are added after both have ended.
            double valueLoss = 0, valueClip = 0, explained = 0;
            at::Tensor valuesSeen; // among workers: the minibatch's values, this one's rows filled
            auto valueWhole = [&] {
                const at::Tensor values = models.values(features, rows) * mask;
                const auto v =
                    ppo::clippedValueLoss(values, oldValues, returns, mask, c.valueClipRange);
                (c.vfCoef * v.loss).backward();
                valueLoss = v.loss.item<double>();
                valueClip = v.clipFraction;
                explained = ppo::explainedVariance(values, returns, mask);
            };
            auto valueParts = [&] {
                valuesSeen = at::zeros({idx.size(0), width}, mask.options());
                for (int p : computed) {
                    const PartPlace place = placeOf(p);
                    const at::Tensor subMask = place.of(mask);
                    const double share = subMask.sum().item<double>() / tokens;
                    const at::Tensor values =
                        models.values(e.features.index_select(0, place.rows), place.batch) *
                        subMask;
                    const auto v = ppo::clippedValueLoss(
                        values, place.of(oldValues), place.of(returns), subMask, c.valueClipRange);
                    (c.vfCoef * share * v.loss).backward();
                    valueLoss += v.loss.item<double>() * share;
                    valueClip += v.clipFraction * share;
                    place.of(valuesSeen).copy_(values.detach());
                }
            };
            if (c.usesValueModel()) {
                step.parallel = false; // the value model has the other core
                helper.runBeside(shared ? std::function<void()>(valueParts) : valueWhole,
                                 policyStep, c.parallel);
            } else {
                step.parallel = c.parallel;
                policyStep();
            }
            StepFigures taken;
            for (const auto& part : figures)
                taken.policy = taken.policy + part;
            if (shared) {
                // Every worker's gradients summed: the minibatch's, whoever computed which rows.
                // A parameter no worker reached keeps no gradient, as it would alone.
                at::Tensor had = at::zeros({int64_t(trained.size())});
                std::vector<at::Tensor> exchanged{had};
                for (size_t i = 0; i < trained.size(); ++i) {
                    auto& param = trained[i];
                    if (param.grad().defined())
                        had[int64_t(i)] = 1;
                    else
                        param.mutable_grad() = at::zeros_like(param);
                    exchanged.push_back(param.grad());
                }
                if (valuesSeen.defined()) exchanged.push_back(valuesSeen);
                ESPER_TRY(parts.sum(exchanged, "the gradients"));
                for (size_t i = 0; i < trained.size(); ++i)
                    if (had[int64_t(i)].item<float>() == 0)
                        trained[i].mutable_grad() = at::Tensor();
                if (c.usesValueModel())
                    explained = ppo::explainedVariance(valuesSeen, returns, mask);
            }
            taken.valueLoss = valueLoss;
            taken.valueClip = valueClip;
            taken.explained = explained;
            steps.push_back(taken);
            optimizer.step();
        }
    }
    if (shared) {
        // Each worker's figures are its parts' shares: summed, they are the minibatches'.
        std::vector<double> sums;
        for (const auto& st : steps) {
            const auto& f = st.policy;
            sums.insert(sums.end(), {f.policyLoss, f.klLoss, f.entropyLoss, f.clipFraction,
                                     f.approxKl, f.entropy, st.valueLoss, st.valueClip});
        }
        at::Tensor summed = at::tensor(sums, at::kDouble);
        at::Tensor deviation = at::tensor({steps.front().policy.ratioDeviation}, at::kDouble);
        ESPER_TRY(parts.sum({summed}, "the update's figures"));
        ESPER_TRY(parts.max({deviation}, "the first ratio"));
        const double* v = summed.data_ptr<double>();
        for (auto& st : steps) {
            st.policy = {v[0], v[1], v[2], v[3], v[4], v[5], st.policy.ratioDeviation};
            st.valueLoss = v[6];
            st.valueClip = v[7];
            v += 8;
        }
        steps.front().policy.ratioDeviation = deviation.item<double>();
    }
    Means means;
    for (const auto& st : steps) {
        const PolicyFigures& f = st.policy;
        means.add("loss_policy", f.policyLoss);
        means.add("loss_value", st.valueLoss);
        means.add("loss_kl", f.klLoss);
        means.add("loss_entropy", f.entropyLoss);
        means.add("loss", (klOnly ? 0.0 : c.pgCoef * f.policyLoss) + c.vfCoef * st.valueLoss +
                              f.klLoss + f.entropyLoss);
        means.add("clip_fraction", f.clipFraction);
        means.add("approx_kl", f.approxKl);
        if (c.usesValueModel()) {
            means.add("value_clip_fraction", st.valueClip);
            means.add("explained_variance", st.explained);
        }
        means.add("policy_entropy", f.entropy);
    }
    PpoUpdate out;
    means.into(out.metrics);
    out.loss = out.metrics["loss"];
    out.metrics["first_ratio_deviation"] = steps.front().policy.ratioDeviation;
    return out;
}

} // namespace esper
