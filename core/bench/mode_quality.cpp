#include "bench/mode_quality.h"

#include "captioning/captioner.h"
#include "io/model_config.h"
#include "models/causal_lm.h"
#include "models/torch_guard.h"
#include "util/json_text.h"
#include "world/scene.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <chrono>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

using Clock = std::chrono::steady_clock;

struct ModeRun {
    std::vector<StyledCaption> captions; // image by image, style by style
    double seconds = 0;
};

Result<ModeRun> captionAll(const BundleManifest& bundle, const std::string& dtype,
                           const std::vector<RgbImage>& images) {
    auto captioner = Captioner::load(bundle, "cpu", dtype);
    ESPER_TRY(captioner);
    const auto styles = captioner.value()->bundleStyles();
    ModeRun run;
    const auto start = Clock::now();
    for (size_t i = 0; i < images.size(); ++i) {
        auto r = captioner.value()->caption(images[i], "quality-" + std::to_string(i), styles, {});
        ESPER_TRY(r);
        for (auto& c : r->captions)
            run.captions.push_back(std::move(c));
    }
    run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return run;
}

// The language model, loaded in `dtype`, scoring each caption's tokens: its logits.
Result<std::vector<at::Tensor>> captionLogits(const BundleManifest& bundle,
                                              const std::string& dtype,
                                              const std::vector<StyledCaption>& captions) {
    auto compute = parseComputeOptions("cpu", dtype);
    ESPER_TRY(compute);
    auto lm = loadCausalLm(bundle.lm.path, compute.value());
    ESPER_TRY(lm);
    std::vector<at::Tensor> out;
    for (const auto& c : captions) {
        if (c.tokens.empty()) continue;
        const auto ids =
            at::tensor(std::vector<int64_t>(c.tokens.begin(), c.tokens.end()), at::kLong)
                .unsqueeze(0);
        out.push_back(lm.value()->forward({lm.value()->embed(ids), {}, {}, false}, nullptr));
    }
    return out;
}

} // namespace

Result<std::string> runModeQuality(const ModeQualityOptions& o) {
    auto bundle = readBundleManifest(o.bundleDir, o.modelsDir);
    ESPER_TRY(bundle);
    std::vector<RgbImage> images = o.images;
    if (images.empty())
        for (int i = 0; i < o.scenes; ++i)
            images.push_back(
                world::renderScene(world::generateScene(o.worldSeed, o.firstScene + i)));
    return guardTorch("the quality check failed", [&]() -> Result<std::string> {
        c10::InferenceMode guard;
        auto base = captionAll(bundle.value(), "fp32", images);
        ESPER_TRY(base);
        // fp32's logits on its own captions, once for every mode to be set against.
        auto dense = captionLogits(bundle.value(), "fp32", base->captions);
        ESPER_TRY(dense);
        nlohmann::ordered_json j;
        j["bundle"] = bundle->name;
        j["images"] = images.size();
        j["captions"] = base->captions.size();
        j["fp32_seconds"] = base->seconds;
        double baseSum = 0;
        for (const auto& c : base->captions)
            baseSum += c.score.clipS;
        j["fp32_clip_s_mean"] = baseSum / double(std::max<size_t>(1, base->captions.size()));
        j["modes"] = nlohmann::ordered_json::array();
        for (const auto& mode : o.modes) {
            auto run = captionAll(bundle.value(), mode, images);
            ESPER_TRY(run);
            auto logits = captionLogits(bundle.value(), mode, base->captions);
            ESPER_TRY(logits);
            double maxLogit = 0;
            for (size_t i = 0; i < logits->size(); ++i)
                maxLogit =
                    std::max(maxLogit, ((*logits)[i] - (*dense)[i]).abs().max().item<double>());
            size_t same = 0;
            double sumDiff = 0, maxDiff = 0, sum = 0;
            for (size_t i = 0; i < base->captions.size(); ++i) {
                const auto& a = base->captions[i];
                const auto& b = run->captions[i];
                same += a.tokens == b.tokens;
                const double d = std::abs(a.score.clipS - b.score.clipS);
                sumDiff += d;
                maxDiff = std::max(maxDiff, d);
                sum += b.score.clipS;
            }
            const double n = double(std::max<size_t>(1, base->captions.size()));
            j["modes"].push_back({{"dtype", mode},
                                  {"max_logit_diff", maxLogit},
                                  {"identical_captions", double(same) / n},
                                  {"clip_s_mean_abs_diff", sumDiff / n},
                                  {"clip_s_max_abs_diff", maxDiff},
                                  {"clip_s_mean", sum / n},
                                  {"seconds", run->seconds}});
        }
        return dumpJson(j, 2);
    });
}

} // namespace esper
