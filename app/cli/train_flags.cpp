#include "train_flags.h"
#include "util/json_text.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace esper::cli {

namespace {
std::atomic<bool> interrupted{false};

// The first Ctrl+C stops training after the current step, with a checkpoint written; a second
// one ends the process at once.
extern "C" void onInterrupt(int) {
    interrupted = true;
    std::signal(SIGINT, SIG_DFL);
}
} // namespace

const char* const kTrainFlagsHelp =
    "training: --steps N --batch B --lr RATE --warmup N --seed S --log FILE.jsonl\n"
    "          --checkpoint FILE (default DIR/checkpoint.safetensors: parameters, optimizer\n"
    "          state, step and random state, written every --checkpoint-every N steps\n"
    "          (default 200), at the end and on the first Ctrl+C)\n"
    "          --resume (continue exactly where the run that wrote the checkpoint stopped)\n";

std::vector<OptionSpec> trainFlagSpecs() {
    return {{"steps"},        {"batch"}, {"lr"},         {"warmup"},
            {"seed"},         {"log"},   {"checkpoint"}, {"checkpoint-every"},
            {"resume", false}};
}

std::string applyTrainFlags(const Args& args, const std::string& dir, TrainSettings& t) {
    constexpr int64_t kMost = std::numeric_limits<int>::max();
    readWhole(args, "steps", t.steps, 1, kMost);
    readWhole(args, "batch", t.batchSize, 2, 1000000);
    readWhole(args, "warmup", t.warmupSteps, 0, kMost);
    readWhole(args, "checkpoint-every", t.checkpointEvery, 0, kMost);
    readWhole(args, "seed", t.seed, 0);
    t.learningRate = args.positive("lr", t.learningRate);
    if (!args.problem().empty()) return args.problem();
    t.logPath = args.get("log", dir + "/train.jsonl");
    t.checkpointPath = args.get("checkpoint", dir + "/checkpoint.safetensors");
    t.resume = args.has("resume");
    t.cancel = interruptFlag();
    const bool tty = ::isatty(2);
    t.onProgress = [tty](int step, int steps, double loss, double left) {
        if (step % 10 && step != steps) return;
        std::fprintf(stderr, "%sstep %d/%d  loss %.4f  eta %.0fs%s", tty ? "\r\033[K" : "", step,
                     steps, loss, left, tty ? "" : "\n");
        if (tty && step == steps) std::fprintf(stderr, "\n");
    };
    return {};
}

nlohmann::ordered_json summaryJson(const TrainSummary& s) {
    return {{"steps", s.steps},
            {"resumed_from", s.resumedFrom},
            {"first_loss", s.firstLoss},
            {"last_loss", s.lastLoss}};
}

const std::atomic<bool>* interruptFlag() {
    static const bool installed = [] {
        std::signal(SIGINT, onInterrupt);
        return true;
    }();
    (void)installed;
    return &interrupted;
}

bool trainingInterrupted() {
    return interrupted.load();
}

int finishTraining(const char* verb, nlohmann::ordered_json& out, double seconds,
                   const std::string& stoppedAt, const std::string& resume) {
    out["seconds"] = seconds;
    std::printf("%s\n", dumpJson(out, 2).c_str());
    if (!trainingInterrupted()) return 0;
    std::fprintf(stderr, "esper %s: interrupted after %s; %s\n", verb, stoppedAt.c_str(),
                 resume.c_str());
    return 130;
}

int finishBundleTraining(const char* verb, nlohmann::ordered_json& out, double seconds,
                         const std::string& stoppedAt, const std::string& bundleDir,
                         const std::vector<std::string>& skippedImages) {
    if (!skippedImages.empty()) out["skipped_images"] = skippedImages;
    out["bundle"] = bundleDir;
    return finishTraining(verb, out, seconds, stoppedAt,
                          "the bundle holds that mapper, and the same command with --resume "
                          "continues");
}

} // namespace esper::cli
