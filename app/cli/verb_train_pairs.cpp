// `esper train supervised --bundle START --pairs DATASET --out OUT_BUNDLE`: the mapper of a
// bundle fine-tuned on the user's own captions (core/training/trainers/pair_finetune.h).
#include "args.h"
#include "progress_stream.h"
#include "train_flags.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "datasets/caption_dataset.h"
#include "image_decoder.h"
#include "training/trainers/pair_finetune.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper train supervised --bundle START --pairs DATASET --out OUT_BUNDLE\n"
    "                              [--style S] [--images DIR] [--random-mapper]\n"
    "                              [--device D] [--progress json] [training flags]\n\n"
    "Fine-tunes the mapper of START on your own (image, caption) pairs by teacher forcing,\n"
    "CLIP and the language model frozen, and writes a complete bundle OUT_BUNDLE. DATASET is\n"
    "anything `esper eval` reads that has images and captions: JSONL (a review export), COCO\n"
    "captions, Karpathy, ESP, a folder of images with .txt/.caption sidecars. Every reference\n"
    "caption of an image is one pair; ESP's styled references keep their style, the others\n"
    "take --style (default caption), so each is taught after its 'style:' prompt.\n"
    "  --images DIR      where the dataset's relative image paths start (default: beside it)\n"
    "  --random-mapper   start from a fresh mapper instead of START's\n"
    "Defaults: --steps 300 --batch 16 --lr 1e-3 --warmup 10 --checkpoint-every 50; the log\n"
    "and checkpoint go to OUT_BUNDLE. Prints {steps, pairs, images, pair_loss_before,\n"
    "pair_loss_after, ...}: the mean teacher-forced loss of all the captions before and after.\n";
} // namespace

int runTrainSupervisedPairs(int argc, char** argv) {
    const std::string help = std::string(kHelp) + kTrainFlagsHelp;
    const char* verb = "train supervised";
    auto specs = trainFlagSpecs();
    for (const char* name : {"bundle", "pairs", "out"})
        specs.push_back({.name = name, .required = true});
    for (const char* name : {"style", "images", "device", "progress"})
        specs.push_back({name});
    specs.push_back({"random-mapper", false});
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, help.c_str(), specs, 0)) return *stop;
    namespace fs = std::filesystem;
    PairFinetuneOptions o;
    o.bundleDir = args.get("bundle");
    o.outDir = args.get("out");
    if (!fs::exists(fs::path(o.bundleDir) / "esper.json"))
        return report(verb, "'" + o.bundleDir + "' is not an ESPER bundle (it has no esper.json)",
                      2);
    o.train = pairFinetuneDefaults();
    std::string problem = applyTrainFlags(args, o.outDir, o.train);
    if (!args.has("log")) o.train.logPath = (fs::path(o.outDir) / "finetune-train.jsonl").string();
    if (!args.has("checkpoint"))
        o.train.checkpointPath = (fs::path(o.outDir) / "finetune-checkpoint.safetensors").string();
    const ProgressStream progress(verb, progressIsJson(args.get("progress"), problem));
    if (!problem.empty()) return report(verb, problem, 2);

    auto data = readDataset(args.get("pairs"));
    if (!data) return report(verb, data.error(), 2);
    const fs::path root =
        args.has("images") ? fs::path(args.get("images")) : fs::path(data->baseDir);
    const std::string fallbackStyle = args.get("style", "caption");
    for (const auto& rec : data->records) {
        const std::string given = rec.imagePath.empty() ? rec.imageId : rec.imagePath;
        const std::string path = fs::path(given).is_absolute() ? given : (root / given).string();
        for (const auto& [style, captions] : rec.references)
            for (const auto& caption : captions)
                o.pairs.push_back({path, caption, style.empty() ? fallbackStyle : style});
    }
    if (o.pairs.empty())
        return report(verb, "'" + args.get("pairs") + "' has no captions to learn from", 2);
    o.decodeImage = [](const std::string& path) { return media::decodeImageFile(path); };
    o.randomMapper = args.has("random-mapper");
    o.device = args.get("device", "cpu");
    o.onMessage = [&progress](const std::string& line) { progress.message(line); };
    o.train.onProgress = [&progress](int step, int steps, double loss, double left) {
        if (!progress.json() && step % 10 && step != steps) return;
        char line[128];
        std::snprintf(line, sizeof line, "step %d/%d  loss %.4f  eta %.0fs", step, steps, loss,
                      left);
        progress.iteration(step, steps, left, {{"loss", loss}}, line);
    };
    ensureBlasCoreType(argv);
    auto r = finetuneOnPairs(o);
    progress.finishLine();
    if (!r) return report(verb, r.error(), r.cancelled() || trainingInterrupted() ? 130 : 1);
    auto out = summaryJson(r.value());
    out["pairs"] = r->pairs;
    out["images"] = r->images;
    out["pair_loss_before"] = r->pairLossBefore;
    out["pair_loss_after"] = r->pairLossAfter;
    return finishBundleTraining(verb, out, r->seconds, "step " + std::to_string(r->steps), o.outDir,
                                r->skippedImages);
}

} // namespace esper::cli
