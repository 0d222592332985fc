#include "training/esper/esper_rollouts.h"

#include "decode/prefix_decoder.h"
#include "training/esper/ppo_math.h"
#include "world/captions.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <c10/core/GradMode.h>
#include <cmath>
#include <numeric>

namespace esper {
namespace {

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\n\r");
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(" \t\n\r") - a + 1);
}

double mean(const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

} // namespace

at::Tensor drawPermutation(int64_t rows, std::mt19937_64& rng) {
    std::vector<int64_t> order(static_cast<size_t>(rows));
    std::iota(order.begin(), order.end(), 0);
    for (size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1], order[static_cast<size_t>(rng() % i)]);
    return at::tensor(order, at::kLong);
}

EpisodeSampler::EpisodeSampler(const EsperConfig& config, EsperModels& models,
                               EpisodeImages& images, const QuerySampler& queries,
                               HelperThread& helper)
    : config_(config), models_(models), images_(images), queries_(queries), helper_(helper) {}

std::vector<int> EpisodeSampler::withoutEnd(const std::vector<int>& response) const {
    const auto eos = models_.lm->eosTokenIds();
    if (!response.empty() && std::find(eos.begin(), eos.end(), response.back()) != eos.end())
        return {response.begin(), response.end() - 1};
    return response;
}

Result<EpisodeSampler::Drawn> EpisodeSampler::draw(bool fromReference, std::mt19937_64& rng) {
    Drawn d;
    const int b = config_.batchSize, perImage = config_.samplesPerImage;
    for (int j = 0; j < b / perImage; ++j) {
        const size_t image = static_cast<size_t>(rng() % images_.size());
        for (int s = 0; s < perImage; ++s)
            d.images.push_back(image);
    }
    for (int r = 0; r < b; ++r)
        d.queries.push_back(queries_.draw(rng));
    auto features = images_.features(d.images);
    if (!features) return fail(features.error());
    d.features = features.value();
    for (const auto& q : d.queries)
        if (q.ids.empty()) return fail("a query encoded to no token");

    c10::NoGradGuard noGrad;
    std::vector<std::vector<int>> prompts;
    // The reference reads the text alone; the policy reads it after the image's prefix.
    const at::Tensor prefixes = fromReference ? at::zeros({b, 0, models_.lm->hiddenSize()})
                                              : models_.policyPrefixes(d.features);
    for (const auto& q : d.queries)
        prompts.push_back(q.ids);
    DecodeOptions o;
    o.strategy = DecodeStrategy::Sample;
    o.maxNewTokens = config_.responseLength;
    o.banEos = models_.banEos;
    o.noRepeatNgram = config_.noRepeatNgram;
    o.temperature = config_.temperature;
    o.topK = config_.topK;
    o.topP = config_.topP;
    o.stopStrings.clear();
    o.seed = rng();
    auto decoded = PrefixDecoder(*models_.lm, nullptr).run(prefixes, prompts, o);
    if (!decoded) return fail("sampling was cancelled");
    for (auto& row : *decoded)
        d.responses.push_back(std::move(row.tokens));
    return d;
}

Result<std::vector<double>> EpisodeSampler::cosines(const at::Tensor& features,
                                                    const std::vector<std::string>& texts) const {
    auto embedded = models_.clip->embedTexts(texts);
    if (!embedded) return fail(embedded.error());
    at::Tensor images = features.to(at::kCPU, at::kFloat);
    if (config_.controlOtherImage) // each text against the next image's features
        images = at::roll(images, -config_.samplesPerImage, 0);
    // A normalised copy: the cached features stay as the mapper reads them (the official
    // reward divided them in place, so later passes saw other features than the rollout did).
    images = images / images.norm(2, 1, true);
    std::vector<double> out;
    for (size_t r = 0; r < texts.size(); ++r) {
        const auto& t = embedded.value()[r];
        const float* image = images[int64_t(r)].data_ptr<float>();
        double dot = 0;
        for (size_t k = 0; k < t.size(); ++k)
            dot += double(image[k]) * double(t[k]);
        out.push_back(dot);
    }
    return out;
}

std::vector<double> EpisodeSampler::goals(const std::vector<size_t>& images,
                                          const std::vector<std::string>& texts,
                                          const std::vector<double>& cosines) const {
    if (config_.goal == "clip") return cosines;
    std::vector<double> out;
    const size_t shift = config_.controlOtherImage ? size_t(config_.samplesPerImage) : 0;
    for (size_t r = 0; r < texts.size(); ++r)
        out.push_back(
            world::checkCaption(texts[r], *images_.scene(images[(r + shift) % texts.size()])).f1());
    return out;
}

Result<std::vector<double>> EpisodeSampler::sampleGoals(std::mt19937_64& rng) {
    auto drawn = draw(false, rng);
    if (!drawn) return fail(drawn.error());
    std::vector<std::string> texts;
    for (size_t r = 0; r < drawn->responses.size(); ++r) {
        std::vector<int> tokens = drawn->queries[r].initIds;
        const auto response = withoutEnd(drawn->responses[r]);
        tokens.insert(tokens.end(), response.begin(), response.end());
        texts.push_back(trimmed(models_.tokenizer->decode(tokens)));
    }
    auto cos = cosines(drawn->features, texts);
    if (!cos) return fail(cos.error());
    return goals(drawn->images, texts, cos.value());
}

Result<EpisodeBatch> EpisodeSampler::sample(const RolloutPlan& plan, const RewardScale& scale,
                                            std::mt19937_64& rng) {
    auto drawn = draw(plan.fromReference, rng);
    if (!drawn) return fail(drawn.error());
    EpisodeBatch e;
    e.images = std::move(drawn->images);
    e.queries = std::move(drawn->queries);
    e.features = drawn->features;
    const int pad = models_.padId;
    std::vector<std::vector<int>> queryIds;
    for (const auto& q : e.queries)
        queryIds.push_back(q.ids);
    e.batch = ResponseBatch::build(queryIds, drawn->responses, pad);
    e.mask = e.batch.responseMask.to(models_.compute.device);
    e.firstEpochOrder = drawPermutation(config_.batchSize, rng);

    // The old passes, in the first epoch's minibatch chunks: the first minibatch then recomputes
    // exactly these numbers, and its ratio is exactly 1.
    const int64_t rows = config_.batchSize, r = e.batch.responseIds.size(1);
    const int64_t m = config_.minibatchSize();
    const auto options = at::TensorOptions().device(models_.compute.device);
    at::Tensor oldLogprobs = at::zeros({rows, r}, options);
    at::Tensor oldValues = at::zeros({rows, r}, options);
    at::Tensor refLogprobs;
    const auto device = models_.compute.device;
    auto chunk = [&](int64_t c) { return e.firstEpochOrder.slice(0, c * m, (c + 1) * m); };
    helper_.runBeside(
        [&] {
            c10::NoGradGuard noGrad;
            for (int64_t c = 0; c < config_.minibatches; ++c) {
                const at::Tensor idx = chunk(c);
                oldValues.index_copy_(
                    0, idx.to(device),
                    models_.values(e.features.index_select(0, idx), e.batch.select(idx)));
            }
        },
        [&] {
            c10::NoGradGuard noGrad;
            for (int64_t c = 0; c < config_.minibatches; ++c) {
                const at::Tensor idx = chunk(c);
                oldLogprobs.index_copy_(
                    0, idx.to(device),
                    models_.policyScores(e.features.index_select(0, idx), e.batch.select(idx))
                        .logprobs);
            }
            refLogprobs = models_.referenceScores(e.batch).logprobs;
        },
        config_.parallelValue);
    e.oldLogprobs = ppo::maskPad(oldLogprobs, e.mask);
    e.refLogprobs = ppo::maskPad(refLogprobs, e.mask);
    e.oldValues = oldValues * e.mask;

    // The reward's text: the init and the response, never the label.
    std::vector<double> scaledGoals, repetitions;
    for (size_t i = 0; i < e.queries.size(); ++i) {
        std::vector<int> tokens = e.queries[i].initIds;
        const auto response = withoutEnd(drawn->responses[i]);
        tokens.insert(tokens.end(), response.begin(), response.end());
        e.texts.push_back(trimmed(models_.tokenizer->decode(tokens)));
    }
    auto cos = cosines(e.features, e.texts);
    if (!cos) return fail(cos.error());
    e.cosines = std::move(cos.value());
    e.goals = goals(e.images, e.texts, e.cosines);
    std::vector<float> lastToken;
    for (size_t i = 0; i < e.texts.size(); ++i) {
        const double goal = plan.useGoal ? scale.gain * e.goals[i] + scale.bias : 0.0;
        const double repetition =
            config_.repetitionPenalty * ppo::repetitionScore(models_.tokenizer->encode(e.texts[i]));
        scaledGoals.push_back(goal);
        repetitions.push_back(repetition);
        lastToken.push_back(static_cast<float>(goal + repetition));
    }
    const at::Tensor fluency = ppo::fluencyRewards(e.refLogprobs, e.mask, config_.fluencyThreshold,
                                                   config_.fluencyCoef, config_.fluencyBias);
    e.rewards =
        ppo::tokenRewards(e.oldLogprobs, e.refLogprobs, fluency,
                          at::tensor(lastToken).to(models_.compute.device), e.mask, config_.klCoef);

    const auto& mask = e.mask;
    auto rowMean = [&](const at::Tensor& x) { return ppo::rowSums(x, mask).mean().item<double>(); };
    const at::Tensor kl = e.oldLogprobs - e.refLogprobs;
    std::vector<double> clipS;
    for (double c : e.cosines)
        clipS.push_back(2.5 * std::max(c, 0.0));
    e.metrics = {{"reward_total", rowMean(e.rewards)},
                 {"reward_goal", mean(scaledGoals)},
                 {"reward_kl", -config_.klCoef * rowMean(kl)},
                 {"reward_fluency", rowMean(fluency)},
                 {"reward_repetition", mean(repetitions)},
                 {"clip_cosine", mean(e.cosines)},
                 {"clip_s", mean(clipS)},
                 {"kl", rowMean(kl)},
                 {"entropy", rowMean(-e.oldLogprobs)},
                 {"ref_entropy", rowMean(-e.refLogprobs)},
                 {"response_tokens", mask.sum(1).mean().item<double>()}};
    if (images_.scene(e.images.front())) {
        std::vector<double> f1;
        for (size_t i = 0; i < e.texts.size(); ++i)
            f1.push_back(world::checkCaption(e.texts[i], *images_.scene(e.images[i])).f1());
        e.metrics["sample_f1"] = mean(f1);
    }
    return e;
}

} // namespace esper
