#include "training/trainers/audio_pretrain.h"

#include "models/clip.h"
#include "models/runtime.h"
#include "models/torch_guard.h"
#include "models/wav2clip.h"
#include "training/framework/train_runner.h"
#include "training/framework/trainable_weights.h"
#include "training/world/scene_feature_cache.h"
#include "training/world/world_batches.h"
#include "util/file_util.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <cmath>
#include <filesystem>

namespace esper {
namespace {

constexpr int kGroups = 5, kCandidates = 100;

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The initialisation the original ResNet uses (He normal, fan-out, for convolutions; PyTorch's
// default for the MLP's Linear layers), BatchNorm statistics as buffers outside the optimizer.
void initialise(TrainableWeights& weights, uint64_t seed) {
    c10::NoGradGuard noGrad;
    at::manual_seed(seed);
    for (const auto& [name, t] : weights.named()) {
        if (endsWith(name, "running_mean")) {
            t.zero_();
            t.requires_grad_(false);
        } else if (endsWith(name, "running_var")) {
            t.fill_(1.0);
            t.requires_grad_(false);
        } else if (t.dim() == 4) {
            const double fanOut = double(t.size(0) * t.size(2) * t.size(3));
            t.normal_(0, std::sqrt(2.0 / fanOut));
        } else if (t.dim() == 2) {
            const double bound = 1.0 / std::sqrt(double(t.size(1)));
            t.uniform_(-bound, bound);
        }
    }
}

at::Tensor soundBatch(const std::vector<world::Scene>& scenes,
                      const world::SceneSoundOptions& sound) {
    std::vector<at::Tensor> rows;
    for (const auto& s : scenes) {
        auto clip = world::renderSceneSound(s, sound);
        rows.push_back(at::tensor(clip.samples));
    }
    return at::stack(rows);
}

} // namespace

Result<AudioPretrainReport> pretrainAudioEncoder(const AudioPretrainOptions& o) {
    return guardTorch("audio encoder training failed", [&]() -> Result<AudioPretrainReport> {
        auto clip = ClipModel::load(o.clipDir, {});
        ESPER_TRY(clip);
        const int imageSize = static_cast<int>(clip.value()->config().imageSize);
        Wav2ClipConfig config;
        config.sampleRate = o.sound.sampleRate;
        config.widths = o.widths;
        config.blocks = o.blocks;
        config.mlp = {o.widths.back(), o.mlpHidden, clip.value()->config().projectionDim};
        std::error_code ec;
        std::filesystem::create_directories(o.outDir, ec);
        if (ec) return fail("cannot create '" + o.outDir + "': " + ec.message());
        TrainableWeights weights({}, o.train.seed);
        auto model = Wav2Clip::create(config, weights);
        ESPER_TRY(model);
        initialise(weights, o.train.seed);
        if (!o.initFrom.empty())
            if (auto loaded = weights.loadValues(o.initFrom + "/model.safetensors"); !loaded)
                return withContext(loaded.failure(), "starting from '" + o.initFrom + "'");
        Wav2Clip& encoder = *model.value();
        // CLIP's own temperature parametrisation, learned beside the encoder.
        at::Tensor logScale = at::full({}, std::log(1 / 0.07)).set_requires_grad(true);
        std::vector<at::Tensor> params{logScale};
        for (const auto& p : weights.parameters())
            if (p.requires_grad()) params.push_back(p);

        SceneFeatureCache images(*clip.value(), imageSize);
        auto lossOf = [&](int, std::mt19937_64& rng) {
            std::vector<world::Scene> scenes;
            for (int b = 0; b < o.train.batchSize; ++b)
                scenes.push_back(world::generateScene(o.worldSeed, rng() % o.trainScenes));
            at::Tensor target;
            {
                c10::NoGradGuard noGrad; // CLIP is frozen
                target = images.features(scenes);
                target = target / target.norm(2, -1, true);
            }
            encoder.setTraining(true);
            at::Tensor a = encoder.encode(soundBatch(scenes, o.sound)).embedding;
            a = a / a.norm(2, -1, true);
            const at::Tensor logits = at::matmul(a, target.t()) * logScale.exp();
            const at::Tensor labels = at::arange(logits.size(0), at::kLong);
            const at::Tensor contrastive = (at::cross_entropy_loss(logits, labels) +
                                            at::cross_entropy_loss(logits.t(), labels)) /
                                           2;
            return contrastive + o.alignWeight * (1 - (a * target).sum(-1)).mean();
        };
        const auto clampScale = [&] {
            c10::NoGradGuard noGrad;
            logScale.clamp_(0, std::log(100.0)); // CLIP's cap on the temperature
        };
        // Torch's threads split the convolutions; OpenBLAS threads beside them only spin.
        auto trained = [&] {
            const BlasThreadsScope oneBlasThread(1);
            return runTraining(params, o.train, lossOf, clampScale);
        }();
        auto summary = summaryOfRun(trained);
        ESPER_TRY(summary);

        AudioPretrainReport report;
        static_cast<TrainSummary&>(report) = summary.value();
        {
            c10::NoGradGuard noGrad;
            encoder.setTraining(false);
            double top1 = 0, cosine = 0, norm = 0;
            for (int g = 0; g < kGroups; ++g) {
                const auto held = world::generateScenes(
                    o.worldSeed, o.heldOutFirst + uint64_t(g) * kCandidates, kCandidates);
                at::Tensor img = clip.value()->encodeImage(scenePixels(held, imageSize)).features;
                norm += img.norm(2, -1).mean().item<double>() / kGroups;
                img = img / img.norm(2, -1, true);
                at::Tensor a = encoder.encode(soundBatch(held, o.sound)).embedding;
                a = a / a.norm(2, -1, true);
                const at::Tensor sim = at::matmul(a, img.t());
                top1 +=
                    sim.argmax(1).eq(at::arange(kCandidates)).to(at::kFloat).mean().item<double>() /
                    kGroups;
                cosine += sim.diagonal().mean().item<double>() / kGroups;
            }
            report.retrievalTop1 = top1;
            report.meanCosine = cosine;
            report.clipFeatureNorm = norm;
        }
        config.clipFeatureNorm = report.clipFeatureNorm;
        ESPER_TRY(weights.saveModelFolder(o.outDir, config.json(),
                                          "audio encoder trained the Wav2CLIP way on the world"));
        return report;
    });
}

} // namespace esper
