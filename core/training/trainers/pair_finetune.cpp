#include "training/trainers/pair_finetune.h"

#include "models/torch_guard.h"
#include "training/esper/episode_images.h"
#include "training/esper/esper_models.h"
#include "training/framework/teacher_forcing.h"
#include "training/framework/train_runner.h"
#include "training/framework/trained_bundle.h"
#include "util/json_text.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace esper {

namespace fs = std::filesystem;

TrainSettings pairFinetuneDefaults() {
    return {.steps = 300,
            .batchSize = 16,
            .learningRate = 1e-3,
            .warmupSteps = 10,
            .logEvery = 1,
            .checkpointEvery = 50};
}

Result<PairFinetuneReport> finetuneOnPairs(const PairFinetuneOptions& o) {
    const auto say = [&](const std::string& line) {
        if (o.onMessage) o.onMessage(line);
    };
    if (o.pairs.empty()) return fail(ErrorCode::InvalidInput, "no captions to learn from");
    return guardTorch("fine-tuning on captions failed", [&]() -> Result<PairFinetuneReport> {
        // The models ESPER loads, less its value model (no advantage to estimate here).
        EsperConfig config;
        config.advantage = "group";
        auto loaded = EsperModels::load(o.bundleDir, o.modelsDir, config, o.randomMapper, o.device,
                                        o.train.seed);
        ESPER_TRY(loaded);
        EsperModels& m = loaded.value();

        // Each distinct image is encoded by CLIP once; pairs whose image cannot be read drop.
        std::vector<std::string> paths;
        std::set<std::string> seen;
        for (const auto& p : o.pairs)
            if (seen.insert(p.image).second) paths.push_back(p.image);
        say("encoding " + std::to_string(paths.size()) + " images with CLIP");
        std::vector<ImageFileProblem> problems;
        auto encoded = encodedImages(*m.clip, paths, o.decodeImage, problems);
        PairFinetuneReport report;
        for (const auto& p : problems)
            report.skippedImages.push_back(p.path + ": " + p.why);
        ESPER_TRY(encoded);
        EpisodeImages& images = *encoded.value();
        // encodedImages keeps the readable files in order; map each path to its row.
        std::map<std::string, size_t> rowOf;
        for (size_t i = 0; i < images.size(); ++i)
            rowOf[images.name(i)] = i;
        std::vector<size_t> all(images.size());
        for (size_t i = 0; i < all.size(); ++i)
            all[i] = i;
        auto features = images.features(all);
        ESPER_TRY(features);
        const at::Tensor imageFeatures = features.value().to(m.compute.device);

        // Teacher-forced rows: style prompt, " caption", end of text; the caption and its end
        // are taught, the prompt is not.
        const auto eos = m.lm->eosTokenIds();
        const int end = eos.empty() ? m.padId : static_cast<int>(eos.front());
        std::vector<std::vector<int>> rows;
        std::vector<size_t> promptLength;
        std::vector<int64_t> imageRow;
        for (const auto& p : o.pairs) {
            const auto at = rowOf.find(p.image);
            if (at == rowOf.end() || p.caption.empty()) continue;
            std::vector<int> r =
                p.style.empty() ? std::vector<int>{} : m.tokenizer->encode(p.style + ":");
            promptLength.push_back(r.size());
            const auto caption = m.tokenizer->encode(" " + p.caption);
            r.insert(r.end(), caption.begin(), caption.end());
            if (end >= 0 && end < m.lm->vocabSize()) r.push_back(end);
            rows.push_back(std::move(r));
            imageRow.push_back(static_cast<int64_t>(at->second));
        }
        if (rows.empty())
            return fail(ErrorCode::InvalidInput, images.size() == 0
                                                     ? "none of the captions' images could be read"
                                                     : "every caption is empty");
        report.pairs = static_cast<int>(rows.size());
        report.images = static_cast<int>(images.size());
        const Mapper& mapper = *m.policy.mapper;
        const int64_t k = m.bundle.prefixLength;
        auto lossOf = [&](const std::vector<size_t>& chosen) {
            std::vector<std::vector<int>> batchRows;
            std::vector<size_t> batchPrompt;
            std::vector<int64_t> batchImages;
            for (size_t i : chosen) {
                batchRows.push_back(rows[i]);
                batchPrompt.push_back(promptLength[i]);
                batchImages.push_back(imageRow[i]);
            }
            const auto batch = prefixedRows(batchRows, batchPrompt, k, m.padId);
            const at::Tensor prefixes = mapper.forward(imageFeatures.index_select(
                0, at::tensor(batchImages, at::kLong).to(imageFeatures.device())));
            const at::Tensor embeds =
                at::cat({prefixes, m.lm->embed(batch.ids.to(prefixes.device()))}, 1);
            return nextTokenLoss(m.lm->forward({embeds, {}, {}, false}, nullptr),
                                 batch.labels.to(prefixes.device()));
        };
        // The mean loss of every pair, in batches, without gradients.
        auto meanLoss = [&] {
            c10::NoGradGuard noGrad;
            double sum = 0;
            size_t n = 0;
            for (size_t from = 0; from < rows.size(); from += 32) {
                std::vector<size_t> chosen;
                for (size_t i = from; i < std::min(rows.size(), from + 32); ++i)
                    chosen.push_back(i);
                sum += lossOf(chosen).item<double>() * double(chosen.size());
                n += chosen.size();
            }
            return sum / double(n);
        };
        report.pairLossBefore = meanLoss();
        say("teacher-forced loss of the " + std::to_string(rows.size()) +
            " captions before: " + std::to_string(report.pairLossBefore));

        TrainSettings settings = o.train;
        if (settings.logPath.empty())
            settings.logPath = (fs::path(o.outDir) / "finetune-train.jsonl").string();
        if (settings.checkpointPath.empty())
            settings.checkpointPath =
                (fs::path(o.outDir) / "finetune-checkpoint.safetensors").string();
        std::error_code ec;
        fs::create_directories(o.outDir, ec);
        if (ec) return fail("cannot create " + o.outDir + ": " + ec.message());
        auto trained =
            runTraining(m.policy.weights->parameters(), settings, [&](int, std::mt19937_64& rng) {
                std::vector<size_t> chosen;
                for (int b = 0; b < settings.batchSize; ++b)
                    chosen.push_back(rng() % rows.size());
                return lossOf(chosen);
            });
        auto summary = summaryOfRun(trained);
        ESPER_TRY(summary);
        static_cast<TrainSummary&>(report) = summary.value();
        report.pairLossAfter = meanLoss();
        say("teacher-forced loss of the captions after: " + std::to_string(report.pairLossAfter));

        std::vector<std::string> styles;
        for (const auto& p : o.pairs)
            if (!p.style.empty() &&
                std::find(styles.begin(), styles.end(), p.style) == styles.end())
                styles.push_back(p.style);
        nlohmann::ordered_json training{{"method", "supervised-pairs"},
                                        {"steps", report.steps},
                                        {"pairs", report.pairs},
                                        {"images", report.images},
                                        {"started_from", fs::absolute(o.bundleDir).string()},
                                        {"random_mapper", o.randomMapper},
                                        {"pair_loss_before", report.pairLossBefore},
                                        {"pair_loss_after", report.pairLossAfter},
                                        {"log", fs::path(settings.logPath).filename().string()}};
        TrainedBundle b;
        b.start = &m.bundle;
        b.outDir = o.outDir;
        b.mapper = m.policy.weights.get();
        b.mapperNote = "mapper fine-tuned by teacher forcing on the user's captions";
        b.description = "The mapper of '" + m.bundle.name + "' fine-tuned on " +
                        std::to_string(report.pairs) +
                        " of the user's own captions (`esper train supervised --pairs`).";
        b.trainingJson = dumpJson(training);
        if (!styles.empty()) b.styles = styles;
        ESPER_TRY(writeTrainedBundle(b));
        return report;
    });
}

} // namespace esper
