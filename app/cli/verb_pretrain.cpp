#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "training/clip_pretrain.h"
#include "training/lm_pretrain.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper pretrain clip --out DIR [--steps N] [--batch B] [--lr LR] [--warmup N]\n"
    "                           [--seed S] [--world-seed S] [--scenes N] [--log FILE]\n"
    "       esper pretrain lm --out DIR --tokenizer FILE [same options]\n\n"
    "Trains the project's small CLIP (ViT image tower + text tower, InfoNCE with a learned\n"
    "temperature) on the synthetic world's (image, text) pairs, with a sentencepiece tokenizer\n"
    "trained on the world's text. DIR becomes a Hugging Face CLIP folder (config.json,\n"
    "model.safetensors, tokenizer.model) that bundles, `esper eval --clip` and the studio load.\n"
    "Prints JSON: {steps, first_loss, last_loss, retrieval_top1, candidates, seconds}, where\n"
    "retrieval_top1 is image-to-text top-1 among 100 held-out scenes (chance: 1 %).\n"
    "lm: the project's small GPT-2 on the world's 'style: text' lines, with a sentencepiece\n"
    "tokenizer (e.g. the CLIP folder's tokenizer.model). Prints {steps, first_loss, last_loss,\n"
    "held_out_perplexity, seconds}.\n";
} // namespace

int runPretrain(int argc, char** argv) {
    if (argc < 3 || (std::strcmp(argv[2], "clip") && std::strcmp(argv[2], "lm"))) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        return report("pretrain", "say `clip` or `lm`", 2, kHelp);
    }
    const bool lm = !std::strcmp(argv[2], "lm");
    const char* verb = lm ? "pretrain lm" : "pretrain clip";
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, kHelp,
                                   {{"out"},
                                    {"steps"},
                                    {"batch"},
                                    {"lr"},
                                    {"warmup"},
                                    {"seed"},
                                    {"world-seed"},
                                    {"scenes"},
                                    {"log"},
                                    {"tokenizer"}},
                                   0))
        return *stop;
    if (!args.has("out")) return report(verb, "--out DIR is required", 2, kHelp);
    ensureBlasCoreType(argv);
    TrainSettings train;
    train.steps = static_cast<int>(args.number("steps").value_or(train.steps));
    train.batchSize = static_cast<int>(args.number("batch").value_or(train.batchSize));
    train.learningRate = args.number("lr").value_or(train.learningRate);
    train.warmupSteps = static_cast<int>(args.number("warmup").value_or(train.warmupSteps));
    train.seed = static_cast<uint64_t>(args.number("seed").value_or(1));
    train.logPath = args.get("log", args.get("out") + "/train.jsonl");
    const bool tty = ::isatty(2);
    train.onProgress = [tty](int step, int steps, double loss, double left) {
        if (step % 10 && step != steps) return;
        std::fprintf(stderr, "%sstep %d/%d  loss %.4f  eta %.0fs%s", tty ? "\r\033[K" : "", step,
                     steps, loss, left, tty ? "" : "\n");
    };
    const uint64_t worldSeed = static_cast<uint64_t>(args.number("world-seed").value_or(1));
    nlohmann::ordered_json out;
    if (lm) {
        LmPretrainOptions o;
        o.outDir = args.get("out");
        o.tokenizerPath = args.get("tokenizer");
        o.worldSeed = worldSeed;
        o.trainScenes =
            static_cast<uint64_t>(args.number("scenes").value_or(double(o.trainScenes)));
        o.train = train;
        auto r = pretrainLm(o);
        if (tty) std::fprintf(stderr, "\n");
        if (!r) return report(verb, r.error(), 1);
        out = {{"steps", r->steps},
               {"first_loss", r->firstLoss},
               {"last_loss", r->lastLoss},
               {"held_out_perplexity", r->heldOutPerplexity},
               {"seconds", r->seconds}};
    } else {
        ClipPretrainOptions o;
        o.outDir = args.get("out");
        o.worldSeed = worldSeed;
        o.trainScenes =
            static_cast<uint64_t>(args.number("scenes").value_or(double(o.trainScenes)));
        o.train = train;
        auto r = pretrainClip(o);
        if (tty) std::fprintf(stderr, "\n");
        if (!r) return report(verb, r.error(), 1);
        out = {{"steps", r->steps},           {"first_loss", r->firstLoss},
               {"last_loss", r->lastLoss},    {"retrieval_top1", r->retrievalTop1},
               {"candidates", r->candidates}, {"seconds", r->seconds}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}

} // namespace esper::cli
