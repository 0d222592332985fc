#include "training/demo/demo_build.h"

#include "bundle/bundle_builder.h"
#include "bundle/bundle_manifest.h"
#include "models/device.h"
#include "models/runtime.h"
#include "training/trainers/clip_pretrain.h"
#include "training/trainers/lm_pretrain.h"
#include "training/trainers/mapper_train.h"
#include "util/file_util.h"
#include "util/json_text.h"
#include "world/captions.h"
#include "world/world_eval.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

namespace esper {

namespace {
namespace fs = std::filesystem;
constexpr uint64_t kHeldOut = 1000000;   // evaluation scenes start here; training never sees them
constexpr uint64_t kValidation = 900000; // choosing among LM candidates looks only at these
constexpr int kPrefix = 10;              // ESPER's prefix length
} // namespace

std::string DemoBuildReport::json() const {
    nlohmann::ordered_json j{{"clip_retrieval_top1", clipRetrievalTop1}};
    world::addAttributeFields(j, clipAttributes, "clip_");
    j.update(
        nlohmann::ordered_json{{"lm_held_out_perplexity", lmPerplexity},
                               {"lm_context_loss", lmContextLoss},
                               {"lm_other_context_loss", lmOtherContextLoss},
                               {"lm_copy_f1", lmCopyF1},
                               {"lm_copy_size_accuracy", lmCopySizeAccuracy},
                               {"lm_summary_f1", lmSummaryF1},
                               {"lm_candidate_copy_f1", lmCandidateCopyF1},
                               {"lm_chosen", lmChosen},
                               {"mapper_first_loss", mapperFirstLoss},
                               {"mapper_last_loss", mapperLastLoss},
                               {"mapper_held_out_loss", mapperHeldOutLoss},
                               {"mapper_held_out_mismatched_loss", mapperHeldOutMismatchedLoss},
                               {"caption_f1", captionF1},
                               {"mean_style_f1", meanStyleF1},
                               {"random_mapper_f1", randomMapperF1},
                               {"seconds", seconds}});
    if (!evaluation.empty()) j["evaluation"] = nlohmann::ordered_json::parse(evaluation);
    return dumpJson(j, 2);
}

Result<DemoBuildReport> buildDemo(const DemoBuildOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::create_directories(o.outDir, ec);
    if (ec) return fail("cannot create '" + o.outDir + "': " + ec.message());
    const fs::path dir = fs::absolute(o.outDir);
    const fs::path work = dir / ".work"; // checkpoints and the floor's bundle; gone at the end
    fs::create_directories(work, ec);
    if (ec) return fail("cannot create '" + work.string() + "': " + ec.message());
    std::mutex reporting; // CLIP and the LM report from their own threads
    auto progress = [&](const std::string& stage) {
        return [stage, &o, &reporting](int step, int steps, double loss, double left) {
            if (o.onStage && (step % 50 == 0 || step == steps)) {
                const std::lock_guard lock(reporting);
                char line[160];
                std::snprintf(line, sizeof line, "%s: step %d/%d  loss %.3f  eta %.0fs",
                              stage.c_str(), step, steps, loss, left);
                o.onStage(line);
            }
        };
    };
    auto settings = [&](const std::string& stage, int steps, int batch, double rate, int warmup,
                        const fs::path& log) {
        TrainSettings t;
        t.steps = steps;
        t.batchSize = batch;
        t.learningRate = rate;
        t.warmupSteps = warmup;
        t.seed = o.seed;
        t.cancel = o.cancel;
        t.logPath = log.string();
        t.checkpointPath = (work / (stage + "-checkpoint.safetensors")).string();
        t.resume = o.resume;
        t.onProgress = progress(stage);
        return t;
    };
    auto cancelled = [&] { return o.cancel && o.cancel->load(); };
    const auto stopped = [] {
        return cancelledError("cancelled; `--resume` continues from the checkpoints");
    };
    DemoBuildReport report;

    ClipPretrainOptions clip;
    clip.outDir = (dir / "clip").string();
    clip.worldSeed = o.worldSeed;
    clip.heldOutFirst = kHeldOut;
    // 4-pixel patches: an 8-pixel patch holds a small object whole, and shapes blur together.
    clip.imageSize = 32;
    clip.patchSize = 4;
    // Width 96 and three layers learn shapes faster per second than 64 and two did.
    clip.hidden = 96;
    clip.layers = 3;
    clip.projection = 64;
    clip.tokenizerVocab = 300;
    clip.tokenizerPath = (dir / "clip" / "tokenizer.model").string();
    clip.train = settings("clip", o.clipSteps, o.clipBatch, 2e-3, 50, dir / "clip" / "train.jsonl");
    // A resumed build keeps the tokenizer its checkpoints were trained with.
    if (!(o.resume && fs::exists(clip.tokenizerPath)))
        ESPER_TRY(trainWorldTokenizer(clip.outDir, clip.worldSeed, clip.trainScenes,
                                      clip.tokenizerVocab));

    // The LM candidates train in .work/lm-K; the chosen one becomes the bundle's lm/.
    const fs::path lmDir = dir / "lm";
    auto lmStage = [](int k) { return "lm-" + std::to_string(k + 1); };
    auto lmCandidate = [&](int k) {
        LmPretrainOptions lm;
        const std::string stage = lmStage(k);
        lm.outDir = (work / stage).string();
        lm.tokenizerPath = clip.tokenizerPath;
        lm.worldSeed = o.worldSeed;
        lm.heldOutFirst = kValidation; // its report (copy F1 included) is the validation one
        lm.embd = o.lmWidth;
        lm.layers = o.lmLayers;
        lm.positions = 96;             // two or three texts about a scene, or a prefix and a text
        lm.summaryPositions = kPrefix; // as many as the mapper's prefix will hold
        lm.train = settings(stage, o.lmSteps, 32, 2e-3, 30, work / stage / "train.jsonl");
        lm.train.seed = o.seed + static_cast<uint64_t>(k);
        return lm;
    };
    // Neither model needs the other, and each trains fastest on one core: the LMs take the
    // second core while CLIP, the long pole, trains on the first, and then on both.
    // The LMs listen to their own flag: raised on the user's cancel, and when CLIP fails, since
    // the build cannot go on without CLIP (the LMs keep their checkpoints either way).
    std::atomic<bool> stopLm{false};
    // Once the LMs are done, CLIP's steps take both cores (the same result, sooner).
    std::atomic<bool> lmDone{false};
    clip.secondCoreFree = [&] { return lmDone.load(); };
    std::optional<BlasThreadsScope> oneEach(std::in_place, 1);
    auto lmRun = std::async(std::launch::async, [&]() -> Result<std::vector<LmPretrainReport>> {
        struct Done {
            std::atomic<bool>& flag;
            ~Done() { flag = true; }
        } done{lmDone};
        std::vector<LmPretrainReport> reports;
        for (int k = 0; k < std::max(1, o.lmCandidates) && !stopLm; ++k) {
            auto lm = lmCandidate(k);
            lm.train.cancel = &stopLm;
            auto r = pretrainLm(lm);
            ESPER_TRY(r);
            reports.push_back(r.value());
            if (r->copyF1 >= o.lmCopies) break; // it copies: no need for another seed
        }
        return reports;
    });
    auto c = pretrainClip(clip);
    if (!c) stopLm = true;
    while (lmRun.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready)
        if (cancelled()) stopLm = true;
    auto l = lmRun.get();
    oneEach.reset(); // the mapper and the evaluations have both cores to themselves
    ESPER_TRY(c);
    ESPER_TRY(l);
    if (cancelled() || l->empty()) return stopped();
    report.clipRetrievalTop1 = c->retrievalTop1;
    report.clipAttributes = c->attributes;
    for (const auto& r : l.value())
        report.lmCandidateCopyF1.push_back(r.copyF1);
    // The first of equals wins, so one candidate builds what a single LM always built.
    report.lmChosen = static_cast<int>(
        std::max_element(report.lmCandidateCopyF1.begin(), report.lmCandidateCopyF1.end()) -
        report.lmCandidateCopyF1.begin());
    const auto& chosen = l.value()[static_cast<size_t>(report.lmChosen)];
    report.lmPerplexity = chosen.heldOutPerplexity;
    report.lmContextLoss = chosen.contextLoss;
    report.lmOtherContextLoss = chosen.otherContextLoss;
    report.lmSummaryF1 = chosen.summaryF1;
    fs::remove_all(lmDir, ec);
    fs::create_directories(lmDir, ec);
    const fs::path chosenDir = work / lmStage(report.lmChosen);
    for (const char* file :
         {"config.json", "model.safetensors", "tokenizer.model", "train.jsonl"}) {
        ESPER_TRY(copyFileOver((chosenDir / file).string(), (lmDir / file).string(),
                               "the chosen language model's file"));
    }

    DecodeOptions decoding;
    // The world's captions repeat bigrams ("a red ... a red"): block trigrams, not bigrams.
    decoding.noRepeatNgram = 3;
    // The world's LM learnt to end its texts, and some styles end without a period.
    decoding.banEos = false;
    // The longest world texts (three objects and a relation in a news template) run to about
    // 35 tokens; the default 20 cut them mid-word.
    decoding.maxNewTokens = 40;
    world::WorldEvalOptions eval;
    eval.worldSeed = o.worldSeed;
    eval.firstScene = kHeldOut;
    eval.scenes = o.evalScenes;
    eval.imageSize = clip.imageSize;
    eval.cancel = o.cancel;

    // The floor: the same bundle with a freshly initialised mapper.
    NewBundle floor;
    floor.dir = (work / "random-mapper").string();
    fs::remove_all(floor.dir, ec);
    floor.name = "random mapper";
    floor.clip = clip.outDir;
    floor.lm = lmDir.string();
    floor.prefixLength = kPrefix;
    floor.styles = {"caption"};
    floor.decoding = decoding;
    floor.seed = o.seed;
    ESPER_TRY(createBundle(floor));
    eval.bundleDir = floor.dir;
    auto random = world::evaluateOnWorld(eval);
    ESPER_TRY(random);
    report.randomMapperF1 = random->styles.front().f1;

    MapperTrainOptions mapper;
    mapper.clipDir = clip.outDir;
    mapper.lmDir = lmDir.string();
    mapper.outPath = (dir / "mapper.safetensors").string();
    mapper.prefixLength = kPrefix;
    mapper.worldSeed = o.worldSeed;
    mapper.train = settings("mapper", o.mapperSteps, 32, 3e-2, 30, dir / "mapper-train.jsonl");
    auto trained = trainSupervisedMapper(mapper);
    ESPER_TRY(trained);
    if (cancelled()) return stopped();
    report.mapperFirstLoss = trained->firstLoss;
    report.mapperLastLoss = trained->lastLoss;
    report.mapperHeldOutLoss = trained->heldOutLoss;
    report.mapperHeldOutMismatchedLoss = trained->heldOutMismatchedLoss;

    BundleManifest m;
    m.name = "ESPER Studio demo (synthetic world)";
    m.description = "A small CLIP and GPT-2 trained by the project on procedurally generated "
                    "scenes, with a supervised mapper (the language model frozen); built by "
                    "`esper world build-demo`.";
    m.clip = {"./clip", clip.outDir, clip.outDir, ""};
    m.lm = {"./lm", lmDir.string(), lmDir.string(), ""};
    m.mapperPath = mapper.outPath;
    m.prefixLength = kPrefix;
    m.styles = world::worldStyles();
    m.decoding = decoding;
    ESPER_TRY(writeBundleManifest(m, dir.string()));
    eval.bundleDir = dir.string();
    eval.lmDir = lmDir.string(); // the chosen LM's copy F1, now on the held-out scenes
    auto result = world::evaluateOnWorld(eval);
    ESPER_TRY(result);
    report.lmCopyF1 = result->lmCopy->f1;
    report.lmCopySizeAccuracy = result->lmCopy->sizeAccuracy;
    report.captionF1 = result->styles.front().f1;
    report.meanStyleF1 = result->mean().f1;
    report.evaluation = result->json();
    ESPER_TRY(writeFileAtomic((dir / "evaluation.json").string(), report.evaluation + "\n"));
    fs::remove_all(work, ec);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

} // namespace esper
