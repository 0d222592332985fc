#include "training/esper/esper_trainer.h"

#include "bundle/bundle_manifest.h"
#include "decode/prefix_decoder.h"
#include "distributed/collectives.h"
#include "distributed/world.h"
#include "models/device.h"
#include "models/runtime.h"
#include "models/torch_guard.h"
#include "text/sentencepiece_tokenizer.h"
#include "training/esper/episode_images.h"
#include "training/esper/esper_models.h"
#include "training/esper/esper_rollouts.h"
#include "training/esper/ppo_update.h"
#include "training/esper/queries.h"
#include "training/framework/helper_thread.h"
#include "training/framework/train_runner.h"
#include "training/framework/trained_bundle.h"
#include "util/file_util.h"
#include "util/json_text.h"
#include "world/lm_probes.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Result<void> writeBundle(const EsperTrainOptions& o, const EsperModels& models,
                         const std::string& trainingJson) {
    TrainedBundle b;
    b.start = &models.bundle;
    b.outDir = o.outDir;
    b.mapper = models.policy.weights.get();
    b.mapperNote = "mapper trained by ESPER (PPO, CLIP reward, no paired captions)";
    b.description = "The mapper of '" + models.bundle.name +
                    "' trained by ESPER: PPO with CLIP's image-text similarity as the reward, " +
                    "on " + (o.world ? "the synthetic world's scenes" : "the user's images") +
                    ", without paired captions (`esper train esper`).";
    b.trainingJson = trainingJson;
    if (o.config.mode == "style") b.styles = o.config.styles;
    b.extraFiles["esper-config.json"] = o.config.json();
    return writeTrainedBundle(b);
}

struct Calibration {
    RewardScale scale;
    double mean = 0, spread = 0;
};

// The official fallback when no gain and bias are given: the goal scaled to mean 0 and
// deviation 1 over `batches` batches of the starting policy's samples.
Result<Calibration> calibrate(EpisodeSampler& sampler, int batches, uint64_t seed) {
    std::mt19937_64 rng(seed * 31 + 7);
    std::vector<double> all;
    for (int k = 0; k < batches; ++k) {
        auto goals = sampler.sampleGoals(rng);
        ESPER_TRY(goals);
        all.insert(all.end(), goals->begin(), goals->end());
    }
    Calibration out;
    for (double x : all)
        out.mean += x / double(all.size());
    double variance = 0;
    for (double x : all)
        variance += (x - out.mean) * (x - out.mean) / double(all.size());
    out.spread = std::sqrt(variance);
    if (!(out.spread > 1e-8))
        return fail("the reward cannot be calibrated: every sample of the starting policy "
                    "scores the same");
    out.scale = {1.0 / out.spread, -out.mean / out.spread};
    return out;
}

} // namespace

Result<EsperTrainReport> trainEsper(const EsperTrainOptions& o) {
    const auto say = [&](const std::string& line) {
        if (o.onMessage) o.onMessage(line);
    };
    if (auto ok = o.config.validate(); !ok) return fail("the ESPER config: " + ok.error());
    if (o.config.goal == "world_object_f1" && !o.world)
        return fail("the goal \"world_object_f1\" reads the synthetic world's ground truth: "
                    "train on --world");
    if (auto ok = o.config.validateWorkers(o.workers ? o.workers->size() : 1); !ok)
        return ok.failure();
    return guardTorch("ESPER training failed", [&]() -> Result<EsperTrainReport> {
        std::error_code ec;
        fs::create_directories(o.outDir, ec);
        if (ec) return fail("cannot create " + o.outDir + ": " + ec.message());
        // What runs on threads follows the cores this worker has; the numbers do not.
        EsperConfig c = o.config;
        if (workerCores() < 2) c.parallel = false;
        const RolloutParts parts(c.parts, o.workers);
        const bool lead = parts.rank() == 0; // writes, previews and evaluates
        auto loaded =
            EsperModels::load(o.bundleDir, o.modelsDir, c, o.randomMapper, o.device, o.seed);
        ESPER_TRY(loaded);
        EsperModels& models = loaded.value();
        auto queries = QuerySampler::create(c, *models.tokenizer);
        ESPER_TRY(queries);

        EsperTrainReport report;
        HelperThread helper;
        std::unique_ptr<EpisodeImages> images;
        if (o.world) {
            auto config = readModelConfig(models.bundle.clip.path);
            ESPER_TRY(config);
            const auto* clip = std::get_if<ClipConfig>(&config.value());
            if (!clip) return fail(models.bundle.clip.path + " is not a CLIP model");
            images = worldImages(*models.clip, o.worldSeed, o.worldFirst, o.worldScenes,
                                 static_cast<int>(clip->imageSize), c.parallel ? &helper : nullptr);
        } else {
            say("encoding " + std::to_string(o.imagePaths.size()) + " images with CLIP");
            std::vector<ImageFileProblem> problems;
            auto encoded = encodedImages(*models.clip, o.imagePaths, o.decodeImage, problems);
            for (const auto& p : problems)
                report.skippedImages.push_back(p.path + ": " + p.why);
            ESPER_TRY(encoded);
            images = std::move(encoded.value());
            if (!problems.empty())
                say("left out " + std::to_string(problems.size()) +
                    " images that could not be read (the first: " + problems[0].path + ": " +
                    problems[0].why + ")");
        }

        // Policy and value each on one core: two BLAS threads apiece would oversubscribe them.
        std::optional<BlasThreadsScope> oneEach;
        if (c.parallel) oneEach.emplace(1);
        EpisodeSampler sampler(c, models, *images, queries.value(), helper, parts);

        // The goal's scale, given or calibrated on the starting policy's samples (restored from
        // the checkpoint on resume, so a resumed run keeps the scale it started with).
        RewardScale scale{c.rewardGain.value_or(0), c.rewardBias.value_or(0)};
        std::optional<double> calMean, calStd;
        TrainHooks hooks;
        const std::string configJson = o.config.json();
        // Doubles as exact (hexadecimal) text: a resumed run must compute the same rewards.
        auto exact = [](double v) {
            char buffer[64];
            std::snprintf(buffer, sizeof buffer, "%a", v);
            return std::string(buffer);
        };
        hooks.saveState = [&] {
            std::map<std::string, std::string> state{{"reward_gain", exact(scale.gain)},
                                                     {"reward_bias", exact(scale.bias)},
                                                     {"config", configJson}};
            if (calMean) state["calibration_mean"] = exact(*calMean);
            if (calStd) state["calibration_std"] = exact(*calStd);
            return state;
        };
        hooks.restoreState = [&](const std::map<std::string, std::string>& s) -> Result<void> {
            auto get = [&](const char* k) { return s.count(k) ? s.at(k) : std::string(); };
            if (get("config") != configJson)
                return fail("it was written by a run with another ESPER config; start afresh "
                            "without --resume, or resume with the config it wrote (" +
                            (fs::path(o.outDir) / "esper-config.json").string() + ")");
            scale.gain = std::strtod(get("reward_gain").c_str(), nullptr);
            scale.bias = std::strtod(get("reward_bias").c_str(), nullptr);
            if (!get("calibration_mean").empty())
                calMean = std::strtod(get("calibration_mean").c_str(), nullptr);
            if (!get("calibration_std").empty())
                calStd = std::strtod(get("calibration_std").c_str(), nullptr);
            return {};
        };
        const std::string checkpoint =
            o.checkpointPath.empty()
                ? (fs::path(o.outDir) / "esper-checkpoint.safetensors").string()
                : o.checkpointPath;
        const bool resuming = o.resume && fs::exists(checkpoint);
        if (!c.rewardGain && !resuming) {
            say("calibrating the reward on " + std::to_string(c.calibrationBatches) +
                " batches of the starting policy's samples");
            auto calibrated = calibrate(sampler, c.calibrationBatches, o.seed);
            ESPER_TRY(calibrated);
            calMean = calibrated->mean;
            calStd = calibrated->spread;
            scale = calibrated->scale;
            const char* what = c.goal == "clip"               ? "cosine"
                               : c.goal == "clip_contrastive" ? "contrastive score"
                                                              : "object F1";
            say("reward: G = " + std::to_string(scale.gain) + " * " + what +
                (scale.bias < 0 ? " - " : " + ") + std::to_string(std::abs(scale.bias)) +
                " (the samples' " + what + " " + std::to_string(*calMean) + " +- " +
                std::to_string(*calStd) + ")");
        }

        // Held-out scenes for the greedy `caption:` probe of the world.
        std::unique_ptr<EpisodeImages> heldOut;
        const auto* spTokenizer =
            dynamic_cast<const SentencePieceTokenizer*>(models.tokenizer.get());
        const bool canEvaluate = o.world && spTokenizer && lead;
        if (canEvaluate) {
            auto config = readModelConfig(models.bundle.clip.path);
            const auto* clip = std::get_if<ClipConfig>(&config.value());
            heldOut =
                worldImages(*models.clip, o.worldSeed, o.heldOutFirst,
                            static_cast<uint64_t>(c.evalScenes), static_cast<int>(clip->imageSize));
        }
        auto evaluate = [&]() -> Result<double> {
            c10::NoGradGuard noGrad;
            std::vector<size_t> rows(static_cast<size_t>(c.evalScenes));
            std::iota(rows.begin(), rows.end(), size_t{0});
            auto features = heldOut->features(rows);
            ESPER_TRY(features);
            auto probe = world::captionProbe(
                *models.lm, *spTokenizer, models.policyPrefixes(features.value()),
                std::vector<std::vector<int>>(rows.size(), spTokenizer->encode("caption:")), {},
                o.worldSeed, o.heldOutFirst);
            ESPER_TRY(probe);
            return probe->f1;
        };

        auto preview = [&](int done) -> Result<void> {
            if (!o.onPreview || images->size() == 0 || !lead) return {};
            c10::NoGradGuard noGrad;
            std::vector<size_t> shown(
                std::min(images->size(), size_t(std::max(0, o.previewImages))));
            std::iota(shown.begin(), shown.end(), size_t{0});
            auto features = images->features(shown);
            ESPER_TRY(features);
            const at::Tensor prefixes = models.policyPrefixes(features.value());
            const std::vector<std::string> labels =
                c.mode == "style" ? c.styles : std::vector<std::string>{""};
            std::vector<int64_t> rows;
            std::vector<std::vector<int>> prompts;
            for (size_t i = 0; i < shown.size(); ++i)
                for (const auto& label : labels) {
                    rows.push_back(int64_t(i));
                    prompts.push_back(label.empty() ? std::vector<int>{}
                                                    : models.tokenizer->encode(label + ":"));
                }
            DecodeOptions greedy = models.bundle.decoding;
            greedy.strategy = DecodeStrategy::Greedy;
            greedy.banEos = models.banEos;
            auto decoded = PrefixDecoder(*models.lm, models.tokenizer.get())
                               .run(prefixes.index_select(
                                        0, at::tensor(rows, at::kLong).to(prefixes.device())),
                                    prompts, greedy);
            ESPER_TRY(decoded);
            std::vector<PreviewCaption> captions;
            for (size_t r = 0; r < rows.size(); ++r)
                captions.push_back({images->name(shown[size_t(rows[r])]), labels[r % labels.size()],
                                    decoded.value()[r].text});
            o.onPreview(done, captions);
            return {};
        };

        TrainSettings settings;
        settings.steps = c.scheduleIterations();
        settings.stopAfter = o.iterations;
        settings.maxSeconds = o.minutes * 60;
        settings.learningRate = c.learningRate;
        settings.weightDecay = c.weightDecay;
        settings.warmupSteps = c.warmupIterations;
        settings.clipNorm = c.maxGradNorm;
        settings.seed = o.seed;
        settings.logPath =
            o.logPath.empty() ? (fs::path(o.outDir) / "esper-train.jsonl").string() : o.logPath;
        settings.logEvery = 1;
        settings.cancel = o.cancel;
        settings.checkpointPath = checkpoint;
        settings.checkpointEvery = o.checkpointEvery;
        settings.resume = o.resume;
        settings.writes = lead;
        if (parts.shared())
            settings.agreeToStop = [&](bool stop) -> Result<bool> {
                // Every worker stops at the same iteration: the first to be told to or to run
                // out of time stops them all (and worker 0 then writes the checkpoint).
                at::Tensor any = at::tensor({stop ? 1.0 : 0.0}, at::kDouble);
                ESPER_TRY(parts.max({any}, "whether to stop"));
                return any.item<double>() > 0;
            };
        // The iteration the run ends at, when a count ends it (0: a time budget does).
        const int planned = o.iterations > 0 ? std::min(o.iterations, settings.steps)
                            : o.minutes > 0  ? 0
                                             : settings.steps;
        const auto start = Clock::now();
        std::optional<int> firstIteration; // this process's first (a resumed run's is later)

        auto iteration = [&](int it, std::mt19937_64& rng,
                             OptimizerSteps& optimizer) -> Result<IterationResult> {
            const auto began = Clock::now();
            const double exchangedBefore = parts.exchangeSeconds();
            const int64_t bytesBefore = parts.exchangeBytes();
            if (!firstIteration) firstIteration = it;
            RolloutPlan plan{it, it < c.referenceUntil(), it >= c.goalFrom};
            auto sampled = sampler.sample(plan, scale, rng);
            ESPER_TRY(sampled);
            const double rolloutSeconds =
                std::chrono::duration<double>(Clock::now() - began).count();
            const EpisodeBatch& e = sampled.value();
            const bool klOnly = it < c.klOnly();
            auto update = ppoUpdate(c, models, e, parts, klOnly, helper, optimizer, rng);
            ESPER_TRY(update);
            IterationResult result;
            result.metrics = e.metrics;
            for (const auto& [name, value] : update->metrics)
                result.metrics[name] = value;
            result.loss = update->loss;
            result.metrics["phase"] = plan.fromReference ? 0 : klOnly ? 1 : 2;
            const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
            result.metrics["episodes_per_second"] = c.batchSize / seconds;
            result.metrics["seconds_rollout"] = rolloutSeconds;
            result.metrics["seconds_update"] = seconds - rolloutSeconds;
            result.metrics["episodes"] = double(int64_t(it + 1) * c.batchSize);
            if (parts.shared()) {
                result.metrics["workers"] = parts.workers();
                result.metrics["seconds_exchange"] = parts.exchangeSeconds() - exchangedBefore;
                result.metrics["exchange_megabytes"] =
                    double(parts.exchangeBytes() - bytesBefore) / 1e6;
            }
            if (canEvaluate && c.evalEvery > 0 && (it + 1) % c.evalEvery == 0) {
                auto f1 = evaluate();
                ESPER_TRY(f1);
                result.metrics["eval_f1"] = f1.value();
            }
            if (o.previewEvery > 0 && (it + 1) % o.previewEvery == 0) ESPER_TRY(preview(it + 1));
            if (o.onIteration) {
                const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
                const int done = it + 1;
                double left = o.minutes > 0 ? std::max(0.0, o.minutes * 60 - elapsed) : INFINITY;
                if (planned > 0)
                    left = std::min(left, elapsed / std::max(1, done - *firstIteration) *
                                              (planned - done));
                o.onIteration(done, planned, left, result.metrics);
            }
            return result;
        };
        if (canEvaluate && c.evalEvery > 0 && !resuming) {
            auto f1 = evaluate();
            ESPER_TRY(f1);
            report.evalF1Start = f1.value();
            say("greedy 'caption:' object F1 on " + std::to_string(c.evalScenes) +
                " held-out scenes before training: " + std::to_string(f1.value()));
        }
        if (!resuming) ESPER_TRY(preview(0));
        auto run = runIterations(models.parameterGroups(c), settings, iteration, hooks);
        ESPER_TRY(run);
        static_cast<TrainSummary&>(report) = run->summary();
        report.iterations = run->summary().steps;
        report.episodes = int64_t(report.iterations) * c.batchSize;
        report.episodesPerSecond = run->seconds > 0 ? double(report.iterations - run->resumedFrom) *
                                                          c.batchSize / run->seconds
                                                    : 0.0;
        report.rewardGain = scale.gain;
        report.rewardBias = scale.bias;
        report.calibrationMean = calMean;
        report.calibrationStd = calStd;
        if (report.iterations == 0) return fail("stopped before the first iteration");
        if (o.previewEvery <= 0 || report.iterations % o.previewEvery != 0)
            ESPER_TRY(preview(report.iterations));
        if (canEvaluate) {
            auto f1 = evaluate();
            ESPER_TRY(f1);
            report.evalF1 = f1.value();
        }
        nlohmann::ordered_json training{
            {"method", "esper-ppo"},
            {"mode", c.mode},
            {"iterations", report.iterations},
            {"episodes", report.episodes},
            {"started_from", fs::absolute(o.bundleDir).string()},
            {"random_mapper", o.randomMapper},
            {"images",
             o.world ? "synthetic world scenes" : std::to_string(images->size()) + " image files"},
            {"reward_gain", scale.gain},
            {"reward_bias", scale.bias},
            {"config", "esper-config.json"},
            {"log", fs::path(settings.logPath).filename().string()}};
        if (calMean) training["reward_calibration"] = {{"mean", *calMean}, {"std", *calStd}};
        if (report.evalF1Start) training["world_caption_f1_start"] = *report.evalF1Start;
        if (report.evalF1) training["world_caption_f1"] = *report.evalF1;
        if (parts.shared()) training["workers"] = parts.workers();
        if (lead) ESPER_TRY(writeBundle(o, models, dumpJson(training)));
        return report;
    });
}

} // namespace esper
