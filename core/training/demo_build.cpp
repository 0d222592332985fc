#include "training/demo_build.h"

#include "bundle/bundle_manifest.h"
#include "captioning/captioner.h"
#include "training/clip_pretrain.h"
#include "training/lm_pretrain.h"
#include "training/mapper_train.h"
#include "world/captions.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper {

namespace {
namespace fs = std::filesystem;
constexpr uint64_t kHeldOut = 1000000; // evaluation scenes start here; training never sees them
constexpr int kPrefix = 4;
} // namespace

std::string DemoBuildReport::json() const {
    return nlohmann::ordered_json{
        {"clip_retrieval_top1", clipRetrievalTop1}, {"lm_held_out_perplexity", lmPerplexity},
        {"mapper_first_loss", mapperFirstLoss},     {"mapper_last_loss", mapperLastLoss},
        {"frozen_lm_mapper_f1", frozenLmF1},        {"supervised_mapper_f1", supervisedF1},
        {"random_mapper_f1", randomMapperF1},       {"seconds", seconds}}
        .dump(2);
}

Result<double> bundleAttributeF1(const std::string& bundleDir, uint64_t worldSeed,
                                 uint64_t firstScene, int scenes) {
    auto captioner = Captioner::loadBundle(bundleDir);
    if (!captioner) return fail(captioner.error());
    double total = 0;
    for (int i = 0; i < scenes; ++i) {
        const auto scene = world::generateScene(worldSeed, firstScene + static_cast<uint64_t>(i));
        auto r = captioner.value()->caption(world::renderScene(scene), {},
                                            {styleFromName("caption")}, {});
        if (!r) return fail(r.error());
        total += world::checkCaption(r->captions[0].text, scene).f1();
    }
    return total / std::max(1, scenes);
}

Result<DemoBuildReport> buildDemo(const DemoBuildOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::create_directories(o.outDir, ec);
    if (ec) return fail("cannot create '" + o.outDir + "': " + ec.message());
    const fs::path dir = fs::absolute(o.outDir);
    auto progress = [&](const char* stage) {
        return [stage, &o](int step, int steps, double loss, double left) {
            if (o.onStage && (step % 50 == 0 || step == steps)) {
                char line[160];
                std::snprintf(line, sizeof line, "%s: step %d/%d  loss %.3f  eta %.0fs", stage,
                              step, steps, loss, left);
                o.onStage(line);
            }
        };
    };
    DemoBuildReport report;
    auto settings = [&](const char* stage, int steps, int batch, double rate, int warmup,
                        const fs::path& log) {
        TrainSettings t;
        t.steps = steps;
        t.batchSize = batch;
        t.learningRate = rate;
        t.warmupSteps = warmup;
        t.seed = o.seed;
        t.cancel = o.cancel;
        t.logPath = log.string();
        t.onProgress = progress(stage);
        return t;
    };

    ClipPretrainOptions clip;
    clip.outDir = (dir / "clip").string();
    clip.worldSeed = o.worldSeed;
    clip.heldOutFirst = kHeldOut;
    clip.imageSize = 32;
    clip.patchSize = 8;
    clip.hidden = 64;
    clip.layers = 2;
    clip.projection = 32;
    clip.tokenizerVocab = 300;
    clip.train = settings("clip", o.clipSteps, 64, 1e-3, 30, dir / "clip" / "train.jsonl");
    auto c = pretrainClip(clip);
    if (!c) return fail(c.error());
    report.clipRetrievalTop1 = c->retrievalTop1;

    LmPretrainOptions lm;
    lm.outDir = (dir / "lm-base").string();
    lm.tokenizerPath = (dir / "clip" / "tokenizer.model").string();
    lm.worldSeed = o.worldSeed;
    lm.heldOutFirst = kHeldOut;
    lm.embd = 64;
    lm.layers = 2;
    lm.positions = 48;
    lm.train = settings("lm", o.lmSteps, 32, 2e-3, 20, dir / "lm-base" / "train.jsonl");
    auto l = pretrainLm(lm);
    if (!l) return fail(l.error());
    report.lmPerplexity = l->heldOutPerplexity;

    // The bundle first with a fresh mapper (the floor), then with the trained one.
    BundleManifest m;
    m.name = "ESPER Studio demo (synthetic world)";
    m.description = "A small CLIP and GPT-2 trained by the project on procedurally generated "
                    "scenes, with a supervised mapper; built by `esper world build-demo`.";
    m.clip = {"./clip", (dir / "clip").string(), (dir / "clip").string()};
    m.lm = {"./lm-base", (dir / "lm-base").string(), (dir / "lm-base").string()};
    m.mapperPath = (dir / "mapper.safetensors").string();
    m.prefixLength = kPrefix;
    m.styles = world::worldStyles();
    // The world's captions repeat bigrams ("a red ... a red"): block trigrams, not bigrams.
    m.decoding.noRepeatNgram = 3;
    MapperTrainOptions mapper;
    mapper.clipDir = m.clip.path;
    mapper.lmDir = m.lm.path;
    mapper.outPath = m.mapperPath;
    mapper.prefixLength = kPrefix;
    mapper.worldSeed = o.worldSeed;
    mapper.train.steps = 1;
    mapper.train.learningRate = 0; // one step at rate 0: the initial mapper, saved as is
    mapper.train.seed = o.seed;
    auto fresh = trainSupervisedMapper(mapper);
    if (!fresh) return fail(fresh.error());
    if (auto ok = writeBundleManifest(m, dir.string()); !ok) return fail(ok.error());
    auto floor = bundleAttributeF1(dir.string(), o.worldSeed, kHeldOut, o.evalScenes);
    if (!floor) return fail(floor.error());
    report.randomMapperF1 = floor.value();

    // ClipCap's baseline: the mapper alone, the language model frozen.
    mapper.train = settings("mapper (frozen LM)", o.mapperSteps / 2, 32, 1e-2, 20,
                            dir / "mapper-frozen-train.jsonl");
    auto frozen = trainSupervisedMapper(mapper);
    if (!frozen) return fail(frozen.error());
    auto frozenF1 = bundleAttributeF1(dir.string(), o.worldSeed, kHeldOut, o.evalScenes);
    if (!frozenF1) return fail(frozenF1.error());
    report.frozenLmF1 = frozenF1.value();
    // The tiny world LM barely attends to a prefix it never saw, so the shipped bundle fine-tunes
    // it together with the mapper (ClipCap's MLP + GPT-2 variant) into lm/.
    mapper.fineTunedLmDir = (dir / "lm").string();
    mapper.train =
        settings("mapper (LM fine-tuned)", o.mapperSteps, 32, 2e-3, 20, dir / "mapper-train.jsonl");
    auto trained = trainSupervisedMapper(mapper);
    if (!trained) return fail(trained.error());
    report.mapperFirstLoss = trained->firstLoss;
    report.mapperLastLoss = trained->lastLoss;
    m.lm = {"./lm", (dir / "lm").string(), (dir / "lm").string()};
    if (auto ok = writeBundleManifest(m, dir.string()); !ok) return fail(ok.error());
    auto f1 = bundleAttributeF1(dir.string(), o.worldSeed, kHeldOut, o.evalScenes);
    if (!f1) return fail(f1.error());
    report.supervisedF1 = f1.value();
    fs::remove_all(dir / "lm-base", ec); // the bundle needs only the fine-tuned model
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

} // namespace esper
