#include "training/trainers/mapper_train.h"

#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/device.h"
#include "models/mapper.h"
#include "models/runtime.h"
#include "models/torch_guard.h"
#include "text/sentencepiece_tokenizer.h"
#include "training/framework/sharded_gradients.h"
#include "training/framework/teacher_forcing.h"
#include "training/framework/train_runner.h"
#include "training/framework/trainable_models.h"
#include "training/world/scene_feature_cache.h"
#include "training/world/world_batches.h"
#include "world/captions.h"
#include "world/scene_features.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>

namespace esper {

Result<MapperTrainReport> trainSupervisedMapper(const MapperTrainOptions& o) {
    return guardTorch("mapper training failed", [&]() -> Result<MapperTrainReport> {
        auto clip = ClipModel::load(o.clipDir, {});
        ESPER_TRY(clip);
        auto lm = loadCausalLm(o.lmDir, {});
        ESPER_TRY(lm);
        auto tok = SentencePieceTokenizer::load(o.lmDir + "/tokenizer.model");
        ESPER_TRY(tok);
        const auto& t = *tok.value();
        // The ground truth takes CLIP's width when it fits there, so either mapper has one shape.
        const int64_t inputs = o.groundTruth ? std::max(clip.value()->config().projectionDim,
                                                        world::kGroundTruthFeatures)
                                             : clip.value()->config().projectionDim;
        const MapperShape shape{inputs, lm.value()->hiddenSize(), o.prefixLength};
        // PyTorch's Linear initialisation, as ESPER's mapper starts, then trained from there.
        auto trainable = trainableMapper(shape, {}, o.train.seed);
        ESPER_TRY(trainable);
        TrainableWeights& weights = *trainable->weights;
        const Mapper* mapper = trainable->mapper.get();
        // Optionally a trainable copy of the language model, started from its weights.
        std::optional<TrainableLm> tuned;
        auto params = weights.parameters();
        if (!o.fineTunedLmDir.empty()) {
            auto copy = trainableLmCopy(o.lmDir, {}, o.train.seed);
            ESPER_TRY(copy);
            tuned = std::move(copy.value());
            for (const auto& p : tuned->weights->parameters())
                params.push_back(p);
        }
        const CausalLm& model = tuned ? *tuned->lm : *lm.value();
        const auto& styles = o.styles.empty() ? world::worldStyles() : o.styles;
        std::vector<std::vector<int>> promptIds;
        for (const auto& style : styles)
            promptIds.push_back(t.encode(style + ":"));
        const int imageSize = static_cast<int>(clip.value()->config().imageSize);
        SceneFeatureCache trainFeatures(*clip.value(), imageSize);
        auto featuresOf = [&](const std::vector<world::Scene>& scenes) {
            if (o.groundTruth) return world::groundTruthFeatures(scenes, shape.clipDim);
            c10::NoGradGuard noGrad; // CLIP is frozen
            return clip.value()->encodeImage(scenePixels(scenes, imageSize)).features;
        };
        // The teacher-forced rows of `scenes`, each text in one of the styles.
        auto rowsOf = [&](const std::vector<world::Scene>& scenes, std::mt19937_64& rng) {
            std::vector<std::vector<int>> rows;
            std::vector<size_t> promptLength;
            for (const auto& scene : scenes) {
                const size_t style = rng() % styles.size();
                std::vector<int> r = promptIds[style];
                promptLength.push_back(r.size());
                const auto caption =
                    t.encode(" " + world::describeScene(scene, styles[style], rng));
                r.insert(r.end(), caption.begin(), caption.end());
                r.push_back(t.eosId());
                rows.push_back(std::move(r));
            }
            // Only the caption and its end are taught, not the style prompt.
            return prefixedRows(rows, promptLength, o.prefixLength, t.eosId());
        };
        // The LM's logits for rows [from, to) after their images' prefixes.
        auto logitsOf = [&](const PrefixedRows& batch, const at::Tensor& features, size_t from,
                            size_t to) {
            const auto a = static_cast<int64_t>(from), b = static_cast<int64_t>(to);
            const at::Tensor prefixes = mapper->forward(features.slice(0, a, b));
            const at::Tensor embeds = at::cat({prefixes, model.embed(batch.ids.slice(0, a, b))}, 1);
            return model.forward({embeds, {}, {}, false}, nullptr);
        };
        // Teacher-forced loss of `scenes`; `mismatch` pairs every text with the next scene's
        // image, to measure how much the image tells the model.
        auto lossOf = [&](const std::vector<world::Scene>& scenes, const at::Tensor& features,
                          std::mt19937_64& rng, bool mismatch) {
            const auto batch = rowsOf(scenes, rng);
            return nextTokenLoss(
                logitsOf(batch, mismatch ? at::roll(features, 1, 0) : features, 0, scenes.size()),
                batch.labels);
        };
        // A step's batch is two fixed halves, as CLIP's is: the mapper's step is small ops more
        // than arithmetic, and the halves keep both cores busy with the same result as one.
        const auto trained = [&] {
            const BlasThreadsScope oneEach(1);
            ShardedGradients gradients(params);
            return runTrainingSteps(params, o.train, [&](int, std::mt19937_64& rng) {
                std::vector<world::Scene> scenes;
                for (int b = 0; b < o.train.batchSize; ++b)
                    scenes.push_back(world::generateScene(o.worldSeed, rng() % o.trainScenes));
                const at::Tensor features =
                    o.groundTruth ? featuresOf(scenes) : trainFeatures.features(scenes);
                const auto batch = rowsOf(scenes, rng);
                ShardedStep sharded = rowHalves(scenes.size(), [&](size_t from, size_t to) {
                    return std::vector<at::Tensor>{logitsOf(batch, features, from, to)};
                });
                sharded.loss = [&](const std::vector<std::vector<at::Tensor>>& halves) {
                    std::vector<at::Tensor> logits;
                    for (const auto& half : halves)
                        logits.push_back(half[0]);
                    return nextTokenLoss(at::cat(logits), batch.labels);
                };
                return gradients.step(sharded);
            });
        }();
        auto summary = summaryOfRun(trained);
        ESPER_TRY(summary);
        if (tuned)
            ESPER_TRY(saveLmFolder(*tuned, o.lmDir, o.fineTunedLmDir,
                                   "fine-tuned with the supervised mapper"));
        ESPER_TRY(weights.save(o.outPath, {{"esper", "supervised mapper (ClipCap baseline)"}}));
        MapperTrainReport report;
        static_cast<TrainSummary&>(report) = summary.value();
        {
            c10::NoGradGuard noGrad;
            const auto held = world::generateScenes(o.worldSeed, o.heldOutFirst, 256);
            const at::Tensor features = featuresOf(held);
            std::mt19937_64 a(7), b(7); // the same texts for both
            report.heldOutLoss = lossOf(held, features, a, false).item<double>();
            report.heldOutMismatchedLoss = lossOf(held, features, b, true).item<double>();
        }
        if (o.groundTruth) {
            c10::NoGradGuard noGrad;
            constexpr int kScenes = 200;
            const auto held = world::generateScenes(o.worldSeed, o.heldOutFirst, kScenes);
            const at::Tensor prefixes = mapper->forward(featuresOf(held));
            auto probe = world::captionProbe(
                model, t, prefixes, std::vector<std::vector<int>>(kScenes, t.encode("caption:")),
                {}, o.worldSeed, o.heldOutFirst);
            ESPER_TRY(probe);
            report.groundTruthCaptions = std::move(probe.value());
            auto binding = world::bindingProbe(model, t, prefixes, o.worldSeed, o.heldOutFirst);
            ESPER_TRY(binding);
            report.groundTruthBinding = binding.value();
        }
        return report;
    });
}

} // namespace esper
