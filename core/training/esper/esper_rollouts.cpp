#include "training/esper/esper_rollouts.h"

#include "decode/prefix_decoder.h"
#include "training/esper/ppo_math.h"
#include "world/captions.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <c10/core/GradMode.h>
#include <cmath>
#include <numeric>
#include <optional>

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
                               HelperThread& helper, const RolloutParts& parts)
    : config_(config), models_(models), images_(images), queries_(queries), helper_(helper),
      parts_(parts), workspaces_(static_cast<size_t>(parts.parts())) {}

void EpisodeSampler::forMyParts(const std::function<void(int)>& work, bool parallel) const {
    const std::vector<int> mine = parts_.myParts();
    const size_t first = (mine.size() + 1) / 2;
    auto run = [&](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i)
            work(mine[i]);
    };
    helper_.runBeside([&] { run(0, first); }, [&] { run(first, mine.size()); },
                      parallel && mine.size() > 1);
}

Result<void> EpisodeSampler::shareResponses(std::vector<std::vector<int>>& responses) const {
    if (!parts_.shared()) return {};
    // [rows, 1 + tokens]: each response's length, then its tokens; 0 in the rows of the others.
    const int64_t rows = int64_t(responses.size()), width = config_.responseLength + 2;
    at::Tensor table = at::zeros({rows, width}, at::kLong);
    auto t = table.accessor<int64_t, 2>();
    for (int64_t r = 0; r < rows; ++r) {
        const auto& response = responses[size_t(r)];
        if (int64_t(response.size()) >= width) return fail("a response is longer than it may be");
        t[r][0] = int64_t(response.size());
        for (size_t k = 0; k < response.size(); ++k)
            t[r][int64_t(k) + 1] = response[k];
    }
    ESPER_TRY(parts_.sum({table}, "the sampled responses"));
    for (int64_t r = 0; r < rows; ++r) {
        auto& response = responses[size_t(r)];
        response.resize(size_t(t[r][0]));
        for (size_t k = 0; k < response.size(); ++k)
            response[k] = int(t[r][int64_t(k) + 1]);
    }
    return {};
}

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
    if (!parts_.shared()) {
        auto features = images_.features(d.images);
        ESPER_TRY(features);
        d.features = features.value();
    } else {
        // Each worker encodes its parts' images (a scene's features do not depend on the
        // others encoded with it), and the batch's are put together from everyone's.
        for (int p : parts_.myParts()) {
            const auto [from, to] = parts_.bounds(b, p);
            auto features = images_.features({d.images.begin() + from, d.images.begin() + to});
            ESPER_TRY(features);
            if (!d.features.defined()) d.features = at::zeros({b, features->size(1)});
            d.features.narrow(0, from, to - from).copy_(features.value());
        }
        ESPER_TRY(parts_.sum({d.features}, "the batch's image features"));
    }
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
    // The fixed parts, each with its own seed; this worker samples its own.
    const size_t parts = size_t(parts_.parts());
    std::vector<uint64_t> seeds;
    for (size_t p = 0; p < parts; ++p)
        seeds.push_back(rng());
    d.responses.resize(size_t(b));
    std::vector<std::optional<Error>> failed(parts); // one per part: parts run on two threads
    forMyParts(
        [&](int p) {
            c10::NoGradGuard noGradHere;
            const auto [from, to] = parts_.bounds(b, p);
            if (from == to) return;
            DecodeOptions mine = o;
            mine.seed = seeds[size_t(p)];
            auto decoded = PrefixDecoder(*models_.lm, nullptr, &workspaces_[size_t(p)])
                               .run(prefixes.slice(0, from, to),
                                    {prompts.begin() + from, prompts.begin() + to}, mine);
            if (!decoded) {
                failed[size_t(p)] = decoded.failure();
                return;
            }
            for (int64_t r = from; r < to; ++r)
                d.responses[size_t(r)] = std::move(decoded.value()[size_t(r - from)].tokens);
        },
        config_.parallel && b > 1);
    for (const auto& f : failed)
        if (f) return *f;
    ESPER_TRY(shareResponses(d.responses));
    return d;
}

Result<EpisodeSampler::ClipScores>
EpisodeSampler::clipScores(const at::Tensor& features, const std::vector<size_t>& images,
                           const std::vector<std::string>& texts) const {
    // The texts' CLIP embeddings in the batch's parts; this worker embeds its own.
    const int64_t rows = static_cast<int64_t>(texts.size());
    at::Tensor text = at::zeros({rows, models_.clip->embeddingSize()});
    std::vector<std::optional<Error>> failed(size_t(parts_.parts()));
    forMyParts(
        [&](int p) {
            const auto [from, to] = parts_.bounds(rows, p);
            if (from == to) return;
            auto embedded = models_.clip->embedTexts({texts.begin() + from, texts.begin() + to});
            if (!embedded) {
                failed[size_t(p)] = embedded.failure();
                return;
            }
            for (int64_t r = from; r < to; ++r) {
                const auto& e = embedded.value()[size_t(r - from)];
                std::copy(e.begin(), e.end(), text[r].data_ptr<float>());
            }
        },
        config_.parallel && texts.size() > 1);
    for (const auto& f : failed)
        if (f) return *f;
    ESPER_TRY(parts_.sum({text}, "the texts' CLIP embeddings"));
    // Each row's image, or in the control the next image's; normalised in a copy, so the cached
    // features stay as the mapper reads them (the official reward divided them in place, so
    // later passes saw other features than the rollout did).
    const int64_t shift = config_.controlOtherImage ? config_.samplesPerImage : 0;
    at::Tensor shown = at::roll(features.to(at::kCPU, at::kFloat), -shift, 0);
    shown = shown / shown.norm(2, 1, true);
    const at::Tensor similarity = at::matmul(text.to(at::kDouble), shown.to(at::kDouble).t());
    // The batch's distinct images, each once.
    std::vector<int64_t> distinct;
    std::vector<size_t> seen;
    for (int64_t r = 0; r < rows; ++r) {
        const size_t image = images[size_t((r + shift) % rows)];
        if (std::find(seen.begin(), seen.end(), image) != seen.end()) continue;
        seen.push_back(image);
        distinct.push_back(r);
    }
    const double scale = models_.clip->logitScale();
    const at::Tensor own = similarity.diagonal().contiguous();
    const at::Tensor logits = scale * similarity.index_select(1, at::tensor(distinct, at::kLong));
    const at::Tensor contrastive = scale * own - at::logsumexp(logits, 1);
    ClipScores out;
    out.cosines.assign(own.data_ptr<double>(), own.data_ptr<double>() + rows);
    const at::Tensor c = contrastive.contiguous();
    out.contrastive.assign(c.data_ptr<double>(), c.data_ptr<double>() + rows);
    return out;
}

std::vector<double> EpisodeSampler::goals(const std::vector<size_t>& images,
                                          const std::vector<std::string>& texts,
                                          const ClipScores& clip) const {
    if (config_.goal == "clip") return clip.cosines;
    if (config_.goal == "clip_contrastive") return clip.contrastive;
    std::vector<double> out;
    const size_t shift = config_.controlOtherImage ? size_t(config_.samplesPerImage) : 0;
    for (size_t r = 0; r < texts.size(); ++r)
        out.push_back(
            world::checkCaption(texts[r], *images_.scene(images[(r + shift) % texts.size()])).f1());
    return out;
}

Result<std::vector<double>> EpisodeSampler::sampleGoals(std::mt19937_64& rng) {
    auto drawn = draw(false, rng);
    ESPER_TRY(drawn);
    std::vector<std::string> texts;
    for (size_t r = 0; r < drawn->responses.size(); ++r) {
        std::vector<int> tokens = drawn->queries[r].initIds;
        const auto response = withoutEnd(drawn->responses[r]);
        tokens.insert(tokens.end(), response.begin(), response.end());
        texts.push_back(trimmed(models_.tokenizer->decode(tokens)));
    }
    auto clip = clipScores(drawn->features, drawn->images, texts);
    ESPER_TRY(clip);
    return goals(drawn->images, texts, clip.value());
}

Result<EpisodeBatch> EpisodeSampler::sample(const RolloutPlan& plan, const RewardScale& scale,
                                            std::mt19937_64& rng) {
    auto drawn = draw(plan.fromReference, rng);
    ESPER_TRY(drawn);
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
    // Alone, the value model takes each minibatch whole and the reference the batch whole;
    // workers each take their parts, as the update will.
    const bool shared = parts_.shared();
    const std::vector<int> mine = parts_.myParts();
    helper_.runBeside(
        [&] {
            c10::NoGradGuard noGrad;
            if (!config_.usesValueModel()) return;
            for (int64_t c = 0; c < config_.minibatches; ++c) {
                std::vector<at::Tensor> pieces{chunk(c)};
                if (shared) {
                    pieces.clear();
                    for (int p : mine)
                        pieces.push_back(parts_.slice(chunk(c), p));
                }
                for (const at::Tensor& idx : pieces) {
                    if (idx.size(0) == 0) continue;
                    const at::Tensor v =
                        models_.values(e.features.index_select(0, idx), e.batch.select(idx));
                    oldValues.narrow(1, 0, v.size(1)).index_copy_(0, idx.to(device), v);
                }
            }
        },
        [&] {
            c10::NoGradGuard noGrad;
            for (int64_t c = 0; c < config_.minibatches; ++c)
                for (int p : mine) {
                    const at::Tensor idx = parts_.slice(chunk(c), p);
                    if (idx.size(0) == 0) continue;
                    const at::Tensor lp =
                        models_.policyScores(e.features.index_select(0, idx), e.batch.select(idx))
                            .logprobs;
                    oldLogprobs.narrow(1, 0, lp.size(1)).index_copy_(0, idx.to(device), lp);
                }
            if (!shared) {
                refLogprobs = models_.referenceScores(e.batch).logprobs;
                return;
            }
            refLogprobs = at::zeros({rows, r}, options);
            for (int p : mine) {
                const auto [from, to] = parts_.bounds(rows, p);
                if (from == to) continue;
                const at::Tensor lp =
                    models_.referenceScores(e.batch.select(at::arange(from, to, at::kLong)))
                        .logprobs;
                refLogprobs.narrow(0, from, to - from).narrow(1, 0, lp.size(1)).copy_(lp);
            }
        },
        config_.parallel && config_.usesValueModel());
    ESPER_TRY(parts_.sum({oldLogprobs, oldValues, refLogprobs}, "the old passes"));
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
    auto clip = clipScores(e.features, e.images, e.texts);
    ESPER_TRY(clip);
    e.cosines = clip->cosines;
    e.goals = goals(e.images, e.texts, clip.value());
    const double contrastive = mean(clip->contrastive);
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
    if (config_.advantage == "group")
        e.groupAdvantages = ppo::groupAdvantages(e.rewards, e.mask, config_.samplesPerImage);

    const auto& mask = e.mask;
    auto rowMean = [&](const at::Tensor& x) { return ppo::rowSums(x, mask).mean().item<double>(); };
    const at::Tensor kl = e.oldLogprobs - e.refLogprobs;
    std::vector<double> clipS, squares;
    for (double c : e.cosines) {
        clipS.push_back(2.5 * std::max(c, 0.0));
        squares.push_back(c * c);
    }
    // How varied the batch is: a policy whose texts no longer depend on the image gives its
    // reward nothing to tell apart.
    const double cosineSpread =
        std::sqrt(std::max(0.0, mean(squares) - mean(e.cosines) * mean(e.cosines)));
    std::vector<std::string> distinct(e.texts);
    std::sort(distinct.begin(), distinct.end());
    const double distinctShare =
        double(std::unique(distinct.begin(), distinct.end()) - distinct.begin()) /
        double(e.texts.size());
    e.metrics = {{"reward_total", rowMean(e.rewards)},
                 {"reward_goal", mean(scaledGoals)},
                 {"reward_kl", -config_.klCoef * rowMean(kl)},
                 {"reward_fluency", rowMean(fluency)},
                 {"reward_repetition", mean(repetitions)},
                 {"clip_cosine", mean(e.cosines)},
                 {"clip_contrastive", contrastive},
                 {"clip_cosine_spread", cosineSpread},
                 {"distinct_texts", distinctShare},
                 {"clip_s", mean(clipS)},
                 {"kl", rowMean(kl)},
                 {"entropy", rowMean(-e.oldLogprobs)},
                 {"ref_entropy", rowMean(-e.refLogprobs)},
                 {"response_tokens", mask.sum(1).mean().item<double>()}};
    {
        // The prefix's scale beside the LM's own token embeddings: a prefix far smaller or
        // larger than the words the LM reads has little say, or drowns them.
        c10::NoGradGuard noGrad;
        e.metrics["prefix_norm"] =
            models_.policyPrefixes(e.features).norm(2, -1).mean().item<double>();
        e.metrics["token_norm"] =
            models_.lm->embed(e.batch.responseIds).norm(2, -1).mean().item<double>();
    }
    if (images_.scene(e.images.front())) {
        std::vector<double> f1;
        for (size_t i = 0; i < e.texts.size(); ++i)
            f1.push_back(world::checkCaption(e.texts[i], *images_.scene(e.images[i])).f1());
        e.metrics["sample_f1"] = mean(f1);
    }
    return e;
}

} // namespace esper
