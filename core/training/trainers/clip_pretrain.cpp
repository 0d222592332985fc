#include "training/trainers/clip_pretrain.h"

#include "models/clip.h"
#include "models/device.h"
#include "models/runtime.h"
#include "models/torch_guard.h"
#include "text/clip_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"
#include "training/framework/sharded_gradients.h"
#include "training/framework/train_runner.h"
#include "training/framework/trainable_weights.h"
#include "training/world/world_batches.h"
#include "util/file_util.h"
#include "util/json_text.h"
#include "world/captions.h"
#include "world/clip_probes.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

namespace esper {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The texts' features, encoded in groups of similar length, each padded with eos only to its
// own longest text: the text tower is causal and pools at the first eos, so padding changes
// nothing but the cost, and one batch padded to its longest text spends most rows on it.
at::Tensor encodeTexts(const ClipModel& clip, const SentencePieceTokenizer& tok,
                       const std::vector<std::string>& texts, int context) {
    std::vector<std::vector<int>> ids;
    for (const auto& t : texts)
        ids.push_back(clipSequence(tok.encode(t), tok.bosId(), tok.eosId(), context));
    std::vector<size_t> order(ids.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
    constexpr size_t kGroup = 32;
    std::vector<at::Tensor> parts;
    for (size_t g = 0; g < order.size(); g += kGroup) {
        const size_t n = std::min(kGroup, order.size() - g);
        const size_t longest = ids[order[g + n - 1]].size();
        at::Tensor batch = at::full({static_cast<int64_t>(n), static_cast<int64_t>(longest)},
                                    tok.eosId(), at::kLong);
        auto cells = batch.accessor<int64_t, 2>();
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < ids[order[g + i]].size(); ++j)
                cells[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = ids[order[g + i]][j];
        parts.push_back(clip.encodeText(batch).features);
    }
    at::Tensor back = at::empty({static_cast<int64_t>(order.size())}, at::kLong);
    auto to = back.accessor<int64_t, 1>();
    for (size_t k = 0; k < order.size(); ++k)
        to[static_cast<int64_t>(order[k])] = static_cast<int64_t>(k);
    return at::cat(parts).index_select(0, back); // in the texts' order again
}

nlohmann::ordered_json clipConfigJson(const ClipPretrainOptions& o, int vocab, int bos, int eos) {
    auto tower = [&](int64_t hidden) {
        return nlohmann::ordered_json{
            {"hidden_size", hidden},         {"intermediate_size", 4 * hidden},
            {"num_hidden_layers", o.layers}, {"num_attention_heads", o.heads},
            {"hidden_act", "quick_gelu"},    {"layer_norm_eps", 1e-5},
            {"initializer_range", o.initStd}};
    };
    auto text = tower(o.hidden);
    text["vocab_size"] = vocab;
    text["max_position_embeddings"] = o.contextLength;
    text["bos_token_id"] = bos;
    text["eos_token_id"] = eos;
    text["pad_token_id"] = eos;
    auto vision = tower(o.hidden);
    vision["image_size"] = o.imageSize;
    vision["patch_size"] = o.patchSize;
    vision["num_channels"] = 3;
    return {{"architectures", {"CLIPModel"}},
            {"model_type", "clip"},
            {"projection_dim", o.projection},
            {"text_config", text},
            {"vision_config", vision},
            {"esper_note", "trained by `esper pretrain clip` on the synthetic world"}};
}

} // namespace

Result<void> trainWorldTokenizer(const std::string& dir, uint64_t worldSeed, uint64_t scenes,
                                 int vocab) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail("cannot create '" + dir + "': " + ec.message());
    // The text of a few thousand scenes already holds every word and template the world uses.
    constexpr uint64_t kEnoughScenes = 4000;
    std::string corpus;
    for (const auto& l : world::corpusLines(worldSeed, 0, std::min(scenes, kEnoughScenes), 1))
        corpus += l.substr(l.find(": ") + 2) + "\n"; // no style labels
    const std::string corpusPath = (fs::path(dir) / "tokenizer-corpus.txt").string();
    ESPER_TRY(writeFileAtomic(corpusPath, corpus));
    auto trained = SentencePieceTokenizer::train(
        corpusPath, (fs::path(dir) / "tokenizer").string(), vocab,
        // eos 3, not sentencepiece's default 2: Hugging Face's CLIP treats an eos id of 2
        // as a stale config and pools at the largest token id instead.
        "--model_type=bpe --character_coverage=1.0 --unk_id=0 --bos_id=1 --eos_id=3 "
        "--pad_id=2");
    fs::remove(corpusPath, ec);
    ESPER_TRY(trained);
    return {};
}

Result<ClipPretrainReport> pretrainClip(const ClipPretrainOptions& o) {
    return guardTorch("CLIP training failed", [&]() -> Result<ClipPretrainReport> {
        const auto start = Clock::now();
        if (o.imageSize < 8 || o.patchSize < 1 || o.imageSize % o.patchSize)
            return fail("the image size (" + std::to_string(o.imageSize) +
                        ") must be at least 8 and a multiple of the patch size (" +
                        std::to_string(o.patchSize) + ")");
        if (o.hidden < 8 || o.hidden % o.heads || o.layers < 1)
            return fail("the width must be a multiple of the " + std::to_string(o.heads) +
                        " heads and there must be at least one layer");
        std::error_code ec;
        fs::create_directories(o.outDir, ec);
        if (ec) return fail("cannot create '" + o.outDir + "': " + ec.message());
        const std::string tokPath = (fs::path(o.outDir) / "tokenizer.model").string();
        if (o.tokenizerPath.empty())
            ESPER_TRY(trainWorldTokenizer(o.outDir, o.worldSeed, o.trainScenes, o.tokenizerVocab));
        else
            ESPER_TRY(copyFileOver(o.tokenizerPath, tokPath, "the tokenizer"));
        auto tok = SentencePieceTokenizer::load(tokPath);
        ESPER_TRY(tok);
        const auto& t = *tok.value();
        const auto configJson =
            clipConfigJson(o, static_cast<int>(t.vocabSize()), t.bosId(), t.eosId());
        auto config = parseModelConfig(dumpJson(configJson), "generated config");
        ESPER_TRY(config);

        TrainableWeights weights({}, o.train.seed, o.initStd);
        auto clip = ClipModel::create(std::get<ClipConfig>(config.value()), weights);
        ESPER_TRY(clip);
        const at::Tensor logitScale = weights.named().at("logit_scale");
        // Each step's batch is two fixed halves (images and texts), their features and
        // gradients computed apart: on two cores at once when a second is free, and to the
        // same bits as on one. Each core takes one BLAS thread, as two processes would.
        const auto parameters = weights.parameters();
        const auto trained = [&] {
            const BlasThreadsScope oneEach(1);
            ShardedGradients gradients(parameters); // its helper ends with the training
            return runTrainingSteps(
                parameters, o.train,
                [&](int step, std::mt19937_64& rng) {
                    const int twins = step >= o.twinsFrom ? o.twins : 0;
                    const SceneTexts batch = drawSceneTexts(
                        o.worldSeed, o.trainScenes, o.train.batchSize, twins, rng, o.twinKind);
                    const auto& scenes = batch.scenes;
                    const auto& texts = batch.texts;
                    ShardedStep sharded = rowHalves(scenes.size(), [&](size_t from, size_t to) {
                        const std::vector<world::Scene> rows(scenes.begin() + long(from),
                                                             scenes.begin() + long(to));
                        const std::vector<std::string> words(texts.begin() + long(from),
                                                             texts.begin() + long(to));
                        return std::vector<at::Tensor>{
                            clip.value()->encodeImage(scenePixels(rows, o.imageSize)).features,
                            encodeTexts(*clip.value(), t, words, o.contextLength)};
                    });
                    if (o.secondCoreFree) sharded.parallel = o.secondCoreFree();
                    sharded.loss = [&](const std::vector<std::vector<at::Tensor>>& features) {
                        std::vector<at::Tensor> images, words;
                        for (const auto& shard : features) {
                            images.push_back(shard[0]);
                            words.push_back(shard[1]);
                        }
                        const at::Tensor logits =
                            clip.value()->logitsPerImage(at::cat(images), at::cat(words));
                        const at::Tensor labels =
                            at::arange(static_cast<int64_t>(scenes.size()), at::kLong);
                        return (at::cross_entropy_loss(logits, labels) +
                                at::cross_entropy_loss(logits.t(), labels)) /
                               2;
                    };
                    return gradients.step(sharded);
                },
                [&] { logitScale.clamp_(0, std::log(100.0)); }); // CLIP caps the temperature at 100
        }();
        auto summary = summaryOfRun(trained);
        ESPER_TRY(summary);
        ESPER_TRY(weights.saveModelFolder(o.outDir, dumpJson(configJson, 2), "pretrain clip"));
        ClipPretrainReport r;
        static_cast<TrainSummary&>(r) = summary.value();
        auto probes = world::probeClip(o.outDir, o.worldSeed, o.heldOutFirst, o.imageSize);
        ESPER_TRY(probes);
        r.retrievalTop1 = probes->retrievalTop1;
        r.attributes = probes->attributes;
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return r;
    });
}

} // namespace esper
