#include "training/trainers/lm_pretrain.h"

#include "models/device.h"
#include "models/gpt2.h"
#include "models/torch_guard.h"
#include "text/sentencepiece_tokenizer.h"
#include "training/framework/teacher_forcing.h"
#include "training/framework/train_runner.h"
#include "training/framework/trainable_weights.h"
#include "training/world/object_summaries.h"
#include "util/file_util.h"
#include "util/json_text.h"
#include "world/captions.h"
#include "world/lm_probes.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <array>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

namespace esper {

namespace {

namespace fs = std::filesystem;

// One row per document: [bos] line [eos] line [eos] ..., right-padded; labels are the next
// tokens, -100 past each row's end and before line `scoredFrom` (0: every line is scored).
std::pair<at::Tensor, at::Tensor> batchOf(const SentencePieceTokenizer& tok,
                                          const std::vector<std::vector<std::string>>& documents,
                                          int positions, size_t scoredFrom = 0) {
    std::vector<std::vector<int>> rows;
    std::vector<size_t> firstScored;
    size_t longest = 0;
    for (const auto& document : documents) {
        std::vector<int> r{tok.bosId()};
        firstScored.push_back(0);
        for (size_t k = 0; k < document.size(); ++k) {
            if (k == scoredFrom) firstScored.back() = r.size();
            const auto body = tok.encode(document[k]);
            r.insert(r.end(), body.begin(), body.end());
            r.push_back(tok.eosId());
        }
        if (r.size() > static_cast<size_t>(positions) + 1)
            r.resize(static_cast<size_t>(positions) + 1);
        longest = std::max(longest, r.size());
        rows.push_back(std::move(r));
    }
    const int64_t b = static_cast<int64_t>(rows.size()), t = static_cast<int64_t>(longest) - 1;
    at::Tensor input = at::full({b, t}, tok.eosId(), at::kLong);
    at::Tensor labels = at::full({b, t}, -100, at::kLong);
    for (int64_t i = 0; i < b; ++i) {
        const auto& r = rows[static_cast<size_t>(i)];
        for (size_t j = 0; j + 1 < r.size(); ++j) {
            input[i][static_cast<int64_t>(j)] = r[j];
            if (j + 1 >= firstScored[static_cast<size_t>(i)])
                labels[i][static_cast<int64_t>(j)] = r[j + 1];
        }
    }
    return {input, labels};
}

at::Tensor lossOf(const Gpt2Model& lm, const at::Tensor& input, const at::Tensor& labels) {
    return nextTokenLoss(lm.forward({lm.embed(input), {}, {}, false}, nullptr), labels);
}

// Documents that open with their scene's object summaries, then one or two texts about it,
// every text token scored.
at::Tensor summaryLoss(const Gpt2Model& lm, const SentencePieceTokenizer& tok,
                       const std::vector<world::Scene>& scenes,
                       const std::vector<std::vector<std::string>>& documents, int positions,
                       int summaries, std::mt19937_64& rng) {
    std::vector<std::vector<int>> rows;
    for (const auto& document : documents) {
        std::vector<int> r;
        for (const auto& line : document) {
            const auto body = tok.encode(line);
            r.insert(r.end(), body.begin(), body.end());
            r.push_back(tok.eosId());
        }
        r.resize(std::min(r.size(), static_cast<size_t>(positions - summaries)));
        rows.push_back(std::move(r));
    }
    const auto batch =
        prefixedRows(rows, std::vector<size_t>(rows.size(), 0), summaries, tok.eosId());
    const at::Tensor embeds =
        at::cat({objectSummaries(lm, tok, scenes, summaries, rng), lm.embed(batch.ids)}, 1);
    return nextTokenLoss(lm.forward({embeds, {}, {}, false}, nullptr), batch.labels);
}

// Per-token loss of held-out documents in chunks of 50 (scoring from line `scoredFrom`).
double meanLoss(const Gpt2Model& lm, const SentencePieceTokenizer& tok,
                const std::vector<std::vector<std::string>>& documents, int positions,
                size_t scoredFrom) {
    c10::NoGradGuard noGrad;
    double nll = 0;
    int64_t tokens = 0;
    for (size_t i = 0; i < documents.size(); i += 50) {
        const std::vector<std::vector<std::string>> chunk(
            documents.begin() + static_cast<std::ptrdiff_t>(i),
            documents.begin() + static_cast<std::ptrdiff_t>(std::min(documents.size(), i + 50)));
        auto [input, labels] = batchOf(tok, chunk, positions, scoredFrom);
        const int64_t n = labels.ne(-100).sum().item<int64_t>();
        nll += lossOf(lm, input, labels).item<double>() * double(n);
        tokens += n;
    }
    return nll / double(std::max<int64_t>(tokens, 1));
}

} // namespace

Result<LmPretrainReport> pretrainLm(const LmPretrainOptions& o) {
    return guardTorch("language-model training failed", [&]() -> Result<LmPretrainReport> {
        std::error_code ec;
        fs::create_directories(o.outDir, ec);
        if (ec) return fail("cannot create '" + o.outDir + "': " + ec.message());
        const std::string tokPath = (fs::path(o.outDir) / "tokenizer.model").string();
        if (o.tokenizerPath.empty())
            return fail("a sentencepiece tokenizer is needed (--tokenizer)");
        ESPER_TRY(copyFileOver(o.tokenizerPath, tokPath, "the tokenizer"));
        auto tok = SentencePieceTokenizer::load(tokPath);
        ESPER_TRY(tok);
        const auto& t = *tok.value();
        const nlohmann::ordered_json configJson{
            {"architectures", {"GPT2LMHeadModel"}},
            {"model_type", "gpt2"},
            {"vocab_size", t.vocabSize()},
            {"n_embd", o.embd},
            {"n_layer", o.layers},
            {"n_head", o.heads},
            {"n_positions", o.positions},
            {"activation_function", "gelu_new"},
            {"layer_norm_epsilon", 1e-5},
            {"initializer_range", o.initStd},
            {"bos_token_id", t.bosId()},
            {"eos_token_id", t.eosId()},
            {"esper_note", "trained by `esper pretrain lm` on the synthetic world's text"}};
        auto config = parseModelConfig(dumpJson(configJson), "generated config");
        ESPER_TRY(config);
        auto compute = parseComputeOptions(o.device, "fp32");
        ESPER_TRY(compute);
        TrainableWeights weights(compute.value(), o.train.seed, o.initStd);
        auto lm = Gpt2Model::create(std::get<Gpt2Config>(config.value()), weights);
        ESPER_TRY(lm);
        const auto& styles = world::worldStyles();
        const auto trained =
            runTraining(weights.parameters(), o.train, [&](int, std::mt19937_64& rng) {
                // Three documents in four hold two or three texts about one scene: the model learns
                // to carry content over from what came before, as GPT-2 does from its context,
                // which is what lets a frozen LM follow a mapper's prefix. A share of them open
                // with the scene's object summaries instead (object_summaries.h).
                std::vector<std::vector<std::string>> documents, summarised;
                std::vector<world::Scene> summarisedScenes;
                const auto share = static_cast<uint64_t>(std::lround(o.summaryShare * 100));
                for (int b = 0; b < o.train.batchSize; ++b) {
                    const auto scene = world::generateScene(o.worldSeed, rng() % o.trainScenes);
                    if (o.summaryPositions > 0 && rng() % 100 < share) {
                        summarisedScenes.push_back(scene);
                        summarised.emplace_back();
                        const int lines = 1 + static_cast<int>(rng() % 2);
                        for (int k = 0; k < lines; ++k) {
                            const auto& style = styles[rng() % styles.size()];
                            summarised.back().push_back(style + ": " +
                                                        world::describeScene(scene, style, rng));
                        }
                        continue;
                    }
                    documents.emplace_back();
                    const int lines = std::array<int, 4>{1, 2, 2, 3}[rng() % 4];
                    for (int k = 0; k < lines; ++k) {
                        const auto& style = styles[rng() % styles.size()];
                        documents.back().push_back(style + ": " +
                                                   world::describeScene(scene, style, rng));
                    }
                }
                // Each part weighs as many documents as it holds.
                at::Tensor loss;
                if (!documents.empty()) {
                    auto [input, labels] = batchOf(t, documents, o.positions);
                    loss = lossOf(*lm.value(), input, labels) * double(documents.size());
                }
                if (!summarised.empty()) {
                    const at::Tensor l = summaryLoss(*lm.value(), t, summarisedScenes, summarised,
                                                     o.positions, o.summaryPositions, rng) *
                                         double(summarised.size());
                    loss = loss.defined() ? loss + l : l;
                }
                return loss / double(o.train.batchSize);
            });
        auto summary = summaryOfRun(trained);
        ESPER_TRY(summary);
        ESPER_TRY(weights.saveModelFolder(o.outDir, dumpJson(configJson, 2), "pretrain lm"));
        LmPretrainReport r;
        static_cast<TrainSummary&>(r) = summary.value();
        std::vector<std::vector<std::string>> lines;
        for (const auto& line : world::corpusLines(o.worldSeed, o.heldOutFirst, 100, 1))
            lines.push_back({line});
        r.heldOutPerplexity = std::exp(meanLoss(*lm.value(), t, lines, o.positions, 0));
        // How much the model takes from its context: a second text about a held-out scene, after
        // a first text about that scene and after one about the next scene.
        const auto documents =
            world::contextDocuments(o.worldSeed, o.heldOutFirst, world::kCopyScenes);
        r.contextLoss = meanLoss(*lm.value(), t, documents.sameScene, o.positions, 1);
        r.otherContextLoss = meanLoss(*lm.value(), t, documents.otherScene, o.positions, 1);
        auto copy =
            world::lmCopyProbe(*lm.value(), t, documents.sameScene, o.worldSeed, o.heldOutFirst);
        ESPER_TRY(copy);
        r.copyF1 = copy->f1;
        r.copySizeAccuracy = copy->sizeAccuracy;
        r.copyMispaired = copy->mispaired;
        if (o.summaryPositions > 0) {
            // Its `caption:` after held-out scenes' summaries: what a mapper that learnt to
            // write them would get from this LM.
            c10::NoGradGuard noGrad;
            const auto held =
                world::generateScenes(o.worldSeed, o.heldOutFirst, world::kCopyScenes);
            std::mt19937_64 order(7);
            const at::Tensor summaries =
                objectSummaries(*lm.value(), t, held, o.summaryPositions, order);
            auto read = world::captionProbe(
                *lm.value(), t, summaries,
                std::vector<std::vector<int>>(held.size(), t.encode("caption:")), {}, o.worldSeed,
                o.heldOutFirst);
            ESPER_TRY(read);
            r.summaryF1 = read->f1;
            r.summaryMispaired = read->mispaired;
        }
        return r;
    });
}

} // namespace esper
