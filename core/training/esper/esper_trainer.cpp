#include "training/esper/esper_trainer.h"

#include "bundle/bundle_manifest.h"
#include "models/device.h"
#include "text/sentencepiece_tokenizer.h"
#include "training/esper/episode_images.h"
#include "training/esper/esper_models.h"
#include "training/esper/esper_rollouts.h"
#include "training/esper/ppo_math.h"
#include "training/esper/queries.h"
#include "training/framework/helper_thread.h"
#include "training/framework/train_runner.h"
#include "util/file_util.h"
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

// Running means of a minibatch's figures over an iteration.
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

// A bundle reference to `ref` as seen from `outDir`: registry ids stay ids, paths become
// relative to the new bundle.
std::string referenceFrom(const ModelReference& ref, const std::string& startDir,
                          const std::string& outDir) {
    const fs::path spec(ref.spec);
    const bool isPath = spec.is_absolute() || ref.spec.rfind("./", 0) == 0 ||
                        ref.spec.rfind("../", 0) == 0 || fs::exists(fs::path(startDir) / spec);
    if (!isPath || spec.is_absolute()) return ref.spec;
    std::error_code ec;
    const auto rel = fs::relative(ref.path, fs::absolute(outDir), ec);
    // Beside each other (models/demo and models/demo-supervised): a relative path that moves
    // with both; far apart: an absolute one.
    int climbs = 0;
    for (const auto& part : rel)
        climbs += part == "..";
    if (ec || rel.empty() || climbs > 1) return fs::absolute(ref.path).string();
    const std::string text = rel.string();
    return text.rfind("..", 0) == 0 ? text : "./" + text;
}

Result<void> writeBundle(const EsperTrainOptions& o, const EsperModels& models,
                         const std::string& trainingJson) {
    const fs::path out(o.outDir);
    if (auto ok = models.policy.weights->save(
            (out / "mapper.safetensors").string(),
            {{"esper", "mapper trained by ESPER (PPO, CLIP reward, no paired captions)"}});
        !ok)
        return ok;
    if (auto ok = writeFileAtomic((out / "esper-config.json").string(), o.config.json()); !ok)
        return ok;
    BundleManifest m = models.bundle;
    m.clip.spec = referenceFrom(m.clip, m.dir, o.outDir);
    m.lm.spec = referenceFrom(m.lm, m.dir, o.outDir);
    m.mapperPath = (out / "mapper.safetensors").string();
    if (o.config.mode == "style") m.styles = o.config.styles;
    m.description = "The mapper of '" + models.bundle.name +
                    "' trained by ESPER: PPO with CLIP's image-text similarity as the reward, " +
                    "on " + (o.world ? "the synthetic world's scenes" : "the user's images") +
                    ", without paired captions (`esper train esper`).";
    m.trainingJson = trainingJson;
    return writeBundleManifest(m, o.outDir);
}

} // namespace

Result<EsperTrainReport> trainEsper(const EsperTrainOptions& o) {
    const auto say = [&](const std::string& line) {
        if (o.onMessage) o.onMessage(line);
    };
    if (auto ok = o.config.validate(); !ok) return fail("the ESPER config: " + ok.error());
    try {
        configureCpuRuntime();
        std::error_code ec;
        fs::create_directories(o.outDir, ec);
        if (ec) return fail("cannot create " + o.outDir + ": " + ec.message());
        const EsperConfig& c = o.config;
        auto loaded =
            EsperModels::load(o.bundleDir, o.modelsDir, c, o.randomMapper, o.device, o.seed);
        if (!loaded) return fail(loaded.error());
        EsperModels& models = loaded.value();
        auto queries = QuerySampler::create(c, *models.tokenizer);
        if (!queries) return fail(queries.error());

        EsperTrainReport report;
        std::unique_ptr<EpisodeImages> images;
        if (o.world) {
            auto config = readModelConfig(models.bundle.clip.path);
            if (!config) return fail(config.error());
            const auto* clip = std::get_if<ClipConfig>(&config.value());
            if (!clip) return fail(models.bundle.clip.path + " is not a CLIP model");
            images = worldImages(*models.clip, o.worldSeed, o.worldFirst, o.worldScenes,
                                 static_cast<int>(clip->imageSize));
        } else {
            say("encoding " + std::to_string(o.imagePaths.size()) + " images with CLIP");
            std::vector<ImageFileProblem> problems;
            auto encoded = encodedImages(*models.clip, o.imagePaths, o.decodeImage, problems);
            for (const auto& p : problems)
                report.skippedImages.push_back(p.path + ": " + p.why);
            if (!encoded) return fail(encoded.error());
            images = std::move(encoded.value());
            if (!problems.empty())
                say("left out " + std::to_string(problems.size()) +
                    " images that could not be read (the first: " + problems[0].path + ": " +
                    problems[0].why + ")");
        }

        HelperThread helper;
        // Policy and value each on one core: two BLAS threads apiece would oversubscribe them.
        const BlasThreadsScope oneEach(c.parallelValue ? 1 : 0);
        EpisodeSampler sampler(c, models, *images, queries.value(), helper);

        // The goal's scale, given or calibrated on the starting policy's samples (restored from
        // the checkpoint on resume, so a resumed run keeps the scale it started with).
        RewardScale scale{c.rewardGain.value_or(0), c.rewardBias.value_or(0)};
        std::optional<double> calMean, calStd;
        TrainHooks hooks;
        const std::string configJson = c.json();
        hooks.saveState = [&] {
            std::map<std::string, std::string> state{{"reward_gain", std::to_string(scale.gain)},
                                                     {"reward_bias", std::to_string(scale.bias)},
                                                     {"config", configJson}};
            // Exact text of the doubles: a resumed run must compute the same rewards.
            char buffer[64];
            std::snprintf(buffer, sizeof buffer, "%a", scale.gain);
            state["reward_gain"] = buffer;
            std::snprintf(buffer, sizeof buffer, "%a", scale.bias);
            state["reward_bias"] = buffer;
            if (calMean) state["calibration_mean"] = std::to_string(*calMean);
            if (calStd) state["calibration_std"] = std::to_string(*calStd);
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
            if (!get("calibration_mean").empty()) calMean = std::stod(get("calibration_mean"));
            if (!get("calibration_std").empty()) calStd = std::stod(get("calibration_std"));
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
            std::mt19937_64 calibration(o.seed * 31 + 7);
            std::vector<double> all;
            for (int k = 0; k < c.calibrationBatches; ++k) {
                auto cos = sampler.sampleGoals(calibration);
                if (!cos) return fail(cos.error());
                all.insert(all.end(), cos->begin(), cos->end());
            }
            double mean = 0, sq = 0;
            for (double x : all)
                mean += x / double(all.size());
            for (double x : all)
                sq += (x - mean) * (x - mean) / double(all.size());
            const double spread = std::sqrt(sq);
            if (!(spread > 1e-8))
                return fail("the reward cannot be calibrated: every sample of the starting "
                            "policy scores the same");
            calMean = mean;
            calStd = spread;
            scale = {1.0 / spread, -mean / spread};
            say("reward: G = " + std::to_string(scale.gain) +
                (c.goal == "clip" ? " * cos " : " * F1 ") + (scale.bias < 0 ? "- " : "+ ") +
                std::to_string(std::abs(scale.bias)) + " (the samples' " +
                (c.goal == "clip" ? "cosine " : "object F1 ") + std::to_string(mean) + " +- " +
                std::to_string(spread) + ")");
        }

        // Held-out scenes for the greedy `caption:` probe of the world.
        std::unique_ptr<EpisodeImages> heldOut;
        const auto* spTokenizer =
            dynamic_cast<const SentencePieceTokenizer*>(models.tokenizer.get());
        const bool canEvaluate = o.world && spTokenizer;
        if (c.goal == "world_object_f1" && !o.world)
            return fail("the goal \"world_object_f1\" reads the synthetic world's ground truth: "
                        "train on --world");
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
            if (!features) return fail(features.error());
            auto probe = world::captionProbe(
                *models.lm, *spTokenizer, models.policyPrefixes(features.value()),
                std::vector<std::vector<int>>(rows.size(), spTokenizer->encode("caption:")), {},
                o.worldSeed, o.heldOutFirst);
            if (!probe) return fail(probe.error());
            return probe->f1;
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
        const int planned =
            o.iterations > 0 ? std::min(o.iterations, settings.steps) : settings.steps;
        const auto start = Clock::now();
        std::optional<int> firstIteration; // this process's first (a resumed run's is later)

        const int64_t m = c.minibatchSize();
        auto iteration = [&](int it, std::mt19937_64& rng,
                             OptimizerSteps& optimizer) -> Result<IterationResult> {
            const auto began = Clock::now();
            if (!firstIteration) firstIteration = it;
            RolloutPlan plan{it, it < c.referenceUntil(), it >= c.goalFrom};
            auto sampled = sampler.sample(plan, scale, rng);
            if (!sampled) return fail(sampled.error());
            const double rolloutSeconds =
                std::chrono::duration<double>(Clock::now() - began).count();
            EpisodeBatch& e = sampled.value();
            const bool klOnly = it < c.klOnly();
            Means means;
            const auto device = models.compute.device;
            double firstRatioDeviation = 0;
            for (int epoch = 0; epoch < c.ppoEpochs; ++epoch) {
                const at::Tensor order =
                    epoch == 0 ? e.firstEpochOrder : drawPermutation(c.batchSize, rng);
                for (int64_t chunk = 0; chunk < c.minibatches; ++chunk) {
                    const at::Tensor idx = order.slice(0, chunk * m, (chunk + 1) * m);
                    const at::Tensor onDevice = idx.to(device);
                    const at::Tensor mask = e.mask.index_select(0, onDevice);
                    const at::Tensor oldLogprobs = e.oldLogprobs.index_select(0, onDevice);
                    const at::Tensor oldValues = e.oldValues.index_select(0, onDevice);
                    at::Tensor advantages, returns;
                    {
                        c10::NoGradGuard noGrad;
                        at::Tensor rewards = e.rewards.index_select(0, onDevice);
                        if (c.whitenRewards)
                            rewards = ppo::whiten(rewards, mask, false, c.whitenSqrtStd);
                        auto a = ppo::generalisedAdvantages(rewards, oldValues, mask, c.gamma,
                                                            c.lambda, c.whitenSqrtStd);
                        advantages = a.advantages;
                        returns = a.returns;
                    }
                    const at::Tensor features = e.features.index_select(0, idx);
                    const ResponseBatch rows = e.batch.select(idx);
                    optimizer.zeroGrad();
                    double policyLoss = 0, valueLoss = 0, klLoss = 0, entropyLoss = 0;
                    helper.runBeside(
                        [&] {
                            const at::Tensor values = models.values(features, rows) * mask;
                            const auto v = ppo::clippedValueLoss(values, oldValues, returns, mask,
                                                                 c.valueClipRange);
                            (c.vfCoef * v.loss).backward();
                            valueLoss = v.loss.item<double>();
                            means.add("value_clip_fraction", v.clipFraction);
                            means.add("explained_variance",
                                      ppo::explainedVariance(values, returns, mask));
                        },
                        [&] {
                            const auto scores = models.policyScores(features, rows);
                            const at::Tensor logprobs = ppo::maskPad(scores.logprobs, mask);
                            const auto pg = ppo::clippedPolicyLoss(logprobs, oldLogprobs,
                                                                   advantages, mask, c.clipRange);
                            at::Tensor loss = klOnly ? at::zeros({}) : c.pgCoef * pg.loss;
                            if (c.supervisedKl) {
                                const at::Tensor kl = ppo::supervisedKlLoss(
                                    logprobs, e.refLogprobs.index_select(0, onDevice), mask,
                                    *c.supervisedKl, c.supervisedKlCoef);
                                klLoss = kl.item<double>();
                                loss = loss + kl;
                            }
                            if (c.entropyLoss) {
                                const at::Tensor ent = ppo::entropyLoss(
                                    logprobs, mask, c.entropyThreshold, c.entropyCoef);
                                entropyLoss = ent.item<double>();
                                loss = loss + ent;
                            }
                            if (loss.requires_grad()) loss.backward();
                            policyLoss = pg.loss.item<double>();
                            means.add("clip_fraction", pg.clipFraction);
                            means.add("approx_kl", ppo::approxKl(logprobs, oldLogprobs, mask));
                            means.add(
                                "policy_entropy",
                                ppo::maskedMean(scores.entropy.detach(), mask).item<double>());
                            if (epoch == 0 && chunk == 0)
                                firstRatioDeviation = ((logprobs.detach() - oldLogprobs).exp() - 1)
                                                          .mul(mask)
                                                          .abs()
                                                          .max()
                                                          .item<double>();
                        },
                        c.parallelValue);
                    optimizer.step();
                    means.add("loss_policy", policyLoss);
                    means.add("loss_value", valueLoss);
                    means.add("loss_kl", klLoss);
                    means.add("loss_entropy", entropyLoss);
                    means.add("loss", (klOnly ? 0.0 : c.pgCoef * policyLoss) +
                                          c.vfCoef * valueLoss + klLoss + entropyLoss);
                }
            }
            IterationResult result;
            result.metrics = e.metrics;
            means.into(result.metrics);
            result.loss = result.metrics["loss"];
            result.metrics["first_ratio_deviation"] = firstRatioDeviation;
            result.metrics["phase"] = plan.fromReference ? 0 : klOnly ? 1 : 2;
            const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
            result.metrics["episodes_per_second"] = c.batchSize / seconds;
            result.metrics["seconds_rollout"] = rolloutSeconds;
            result.metrics["seconds_update"] = seconds - rolloutSeconds;
            result.metrics["episodes"] = double(int64_t(it + 1) * c.batchSize);
            if (canEvaluate && c.evalEvery > 0 && (it + 1) % c.evalEvery == 0) {
                auto f1 = evaluate();
                if (!f1) return fail(f1.error());
                result.metrics["eval_f1"] = f1.value();
            }
            if (o.onIteration) {
                const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
                const int done = it + 1;
                double left = o.minutes > 0 ? std::max(0.0, o.minutes * 60 - elapsed) : 0;
                if (o.minutes <= 0 || planned < settings.steps) {
                    const double perIteration = elapsed / std::max(1, done - *firstIteration);
                    const double byCount = perIteration * (planned - done);
                    left = o.minutes > 0 ? std::min(left, byCount) : byCount;
                }
                o.onIteration(done, planned, left, result.metrics);
            }
            return result;
        };
        auto run = runIterations(models.parameterGroups(c), settings, iteration, hooks);
        if (!run) return fail(run.error());
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
        if (canEvaluate) {
            auto f1 = evaluate();
            if (!f1) return fail(f1.error());
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
        if (report.evalF1) training["world_caption_f1"] = *report.evalF1;
        if (auto ok = writeBundle(o, models, training.dump()); !ok) return fail(ok.error());
        return report;
    } catch (const c10::Error& e) {
        return fail("ESPER training failed: " + std::string(e.what_without_backtrace()));
    }
}

} // namespace esper
