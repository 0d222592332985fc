#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "training/clip_pretrain.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper pretrain clip --out DIR [--steps N] [--batch B] [--lr LR] [--warmup N]\n"
    "                           [--seed S] [--world-seed S] [--scenes N] [--log FILE]\n\n"
    "Trains the project's small CLIP (ViT image tower + text tower, InfoNCE with a learned\n"
    "temperature) on the synthetic world's (image, text) pairs, with a sentencepiece tokenizer\n"
    "trained on the world's text. DIR becomes a Hugging Face CLIP folder (config.json,\n"
    "model.safetensors, tokenizer.model) that bundles, `esper eval --clip` and the studio load.\n"
    "Prints JSON: {steps, first_loss, last_loss, retrieval_top1, candidates, seconds}, where\n"
    "retrieval_top1 is image-to-text top-1 among 100 held-out scenes (chance: 1 %).\n";
} // namespace

int runPretrain(int argc, char** argv) {
    if (argc < 3 || std::strcmp(argv[2], "clip")) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        return report("pretrain", "say `clip`", 2, kHelp);
    }
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, "pretrain clip", kHelp,
                                   {{"out"},
                                    {"steps"},
                                    {"batch"},
                                    {"lr"},
                                    {"warmup"},
                                    {"seed"},
                                    {"world-seed"},
                                    {"scenes"},
                                    {"log"}},
                                   0))
        return *stop;
    if (!args.has("out")) return report("pretrain clip", "--out DIR is required", 2, kHelp);
    ensureBlasCoreType(argv);
    ClipPretrainOptions o;
    o.outDir = args.get("out");
    o.train.steps = static_cast<int>(args.number("steps").value_or(o.train.steps));
    o.train.batchSize = static_cast<int>(args.number("batch").value_or(o.train.batchSize));
    o.train.learningRate = args.number("lr").value_or(o.train.learningRate);
    o.train.warmupSteps = static_cast<int>(args.number("warmup").value_or(o.train.warmupSteps));
    o.train.seed = static_cast<uint64_t>(args.number("seed").value_or(1));
    o.worldSeed = static_cast<uint64_t>(args.number("world-seed").value_or(1));
    o.trainScenes = static_cast<uint64_t>(args.number("scenes").value_or(double(o.trainScenes)));
    o.train.logPath = args.get("log", o.outDir + "/train.jsonl");
    const bool tty = ::isatty(2);
    o.train.onProgress = [tty](int step, int steps, double loss, double left) {
        if (step % 10 && step != steps) return;
        std::fprintf(stderr, "%sstep %d/%d  loss %.4f  eta %.0fs%s", tty ? "\r\033[K" : "", step,
                     steps, loss, left, tty ? "" : "\n");
    };
    auto r = pretrainClip(o);
    if (tty) std::fprintf(stderr, "\n");
    if (!r) return report("pretrain clip", r.error(), 1);
    std::printf("%s\n", nlohmann::ordered_json{{"steps", r->steps},
                                               {"first_loss", r->firstLoss},
                                               {"last_loss", r->lastLoss},
                                               {"retrieval_top1", r->retrievalTop1},
                                               {"candidates", r->candidates},
                                               {"seconds", r->seconds}}
                            .dump(2)
                            .c_str());
    return 0;
}

} // namespace esper::cli
