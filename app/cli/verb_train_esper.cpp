#include "args.h"
#include "train_flags.h"
#include "verbs.h"
#include "world_flags.h"

#include "blas_tuning.h"
#include "distributed/collectives.h"
#include "training/esper/esper_trainer.h"
#include "util/json_text.h"
#ifdef ESPER_WITH_MEDIA
#include "image_decoder.h"
#include "image_inputs.h"
#endif
#include "progress_stream.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const std::string kHelp =
    std::string(
        "usage: esper train esper --bundle START (--world | --images DIR) --out OUT_BUNDLE\n"
        "                         [--config FILE.json] [--set KEY=VALUE]...\n"
        "                         [--iterations N | --minutes M] [--free | --styles a,b,...]\n"
        "                         [--random-mapper] [--log FILE.jsonl] [--checkpoint-every N]\n"
        "                         [--resume] [--device D] [--seed S]\n"
        "                         [--world-seed S] [--scenes N]\n"
        "                         [--preview-every N] [--preview-images N] [--progress json]\n"
        "                         [--world-size N --rank R --master ADDR:PORT]\n\n"
        "ESPER: reinforcement learning (PPO) that teaches the mapper of START to caption images\n"
        "with CLIP's image-text similarity as the reward and no captions at all, the language\n"
        "model and CLIP frozen. START supplies CLIP, the language model and the starting mapper\n"
        "(--random-mapper starts from a fresh one, as the paper does).\n\n"
        "  --world             learn from the synthetic world's scenes (0 .. --scenes - 1, "
        "default\n"
        "                      50000, of --world-seed, default 1); held-out scenes from 1000000 "
        "on\n"
        "                      measure greedy 'caption:' object F1 (eval_f1, every eval_every)\n"
        "  --images DIR        learn from your own images (a folder, searched recursively, files "
        "or\n"
        "                      patterns; repeatable); each is encoded by CLIP once\n"
        "  --config FILE.json  hyperparameters; the defaults are the official trainer's. The run\n"
        "                      writes the config it used to OUT_BUNDLE/esper-config.json\n"
        "  --set KEY=VALUE     one setting on top of --config (VALUE is JSON: --set kl_coef=0.05,\n"
        "                      --set reward_gain=null)\n"
        "  --free              ESPER-Free: queries are sentence-initial words\n"
        "  --styles a,b,...    ESPER-Style: queries are 'style: word', the style uniform over "
        "these\n"
        "  --iterations N      stop after iteration N (a resumed run counts the ones before)\n"
        "  --minutes M         stop after M minutes of this run\n"
        "  --log FILE.jsonl    one JSON line per iteration (default "
        "OUT_BUNDLE/esper-train.jsonl):\n"
        "                      reward parts, CLIP cosine, KL, entropy, losses, clip fractions,\n"
        "                      explained variance, episodes/s (and sample_f1, eval_f1 on the "
        "world)\n"
        "  --checkpoint-every N  iterations between checkpoints (default 25; also written at the\n"
        "                      end and on the first Ctrl+C); --resume continues from the last one\n"
        "  --device D          cpu (default) or cuda[:N]\n"
        "  --seed S            the run's random seed (default 1)\n"
        "  --preview-every N   every N iterations (and before the first and at the end) print the\n"
        "                      current mapper's greedy captions of the first --preview-images\n"
        "                      images (default 4) in each style\n"
        "  --progress json     progress as JSON lines on stderr, for programs (docs/cli.md)\n\n"
        "Several workers (torch.distributed's way: each with its --rank, or `esper launch\n"
        "--workers N -- esper train esper ...`) train one run together: each samples and\n"
        "evaluates its share of every batch, and the gradients are summed (Gloo) before each\n"
        "step, so N workers take the steps one would. batch_size is the whole batch; the config's\n"
        "`parts` (default 2) must be a multiple of N. Worker 0 writes the log, checkpoints and\n"
        "OUT_BUNDLE; on --resume every worker reads the checkpoint, with any such N.\n") +
    kWorldFlagsHelp +
    "\n"
    "OUT_BUNDLE gets esper.json (with \"training\": {\"method\": \"esper-ppo\", ...}),\n"
    "mapper.safetensors, esper-config.json and the log; `esper bundle check` and the studio\n"
    "load it. Prints a JSON summary.\n";

// Whether at least one of `files` decodes, so that a folder of unreadable files is a usage
// error before any model loads.
#ifdef ESPER_WITH_MEDIA
std::string firstReadable(const std::vector<std::string>& files, std::string& why) {
    for (const auto& f : files) {
        auto image = media::decodeImageFile(f);
        if (image) return f;
        if (why.empty()) why = f + ": " + image.error();
    }
    return {};
}
#endif

std::string duration(double seconds) {
    const int s = static_cast<int>(std::lround(std::max(0.0, seconds)));
    char out[32];
    if (s >= 3600)
        std::snprintf(out, sizeof out, "%dh%02dm", s / 3600, s % 3600 / 60);
    else
        std::snprintf(out, sizeof out, "%dm%02ds", s / 60, s % 60);
    return out;
}

} // namespace

int runTrainEsper(int argc, char** argv) {
    const char* verb = "train esper";
    Args args;
    std::vector<OptionSpec> specs = {{.name = "bundle", .required = true},
                                     {"world", false},
                                     {"images", true, true},
                                     {.name = "out", .required = true},
                                     {"config"},
                                     {"set", true, true},
                                     {"iterations"},
                                     {"minutes"},
                                     {"free", false},
                                     {"styles"},
                                     {"random-mapper", false},
                                     {"log"},
                                     {"checkpoint-every"},
                                     {"resume", false},
                                     {"device"},
                                     {"seed"},
                                     {"world-seed"},
                                     {"scenes"},
                                     {"preview-every"},
                                     {"preview-images"},
                                     {"progress"}};
    for (const auto& spec : worldFlagSpecs())
        specs.push_back(spec);
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, kHelp.c_str(), specs, 0)) return *stop;
    if (args.has("world") == args.has("images"))
        return report(verb, "say where the images come from: --world or --images DIR", 2,
                      kHelp.c_str());
    if (args.has("free") && args.has("styles"))
        return report(verb, "--free and --styles exclude each other", 2);
    if (args.has("iterations") && args.has("minutes"))
        return report(verb, "give --iterations or --minutes, not both", 2);

    EsperTrainOptions o;
    o.bundleDir = args.get("bundle");
    o.outDir = args.get("out");
    if (!std::filesystem::exists(std::filesystem::path(o.bundleDir) / "esper.json"))
        return report(verb, "'" + o.bundleDir + "' is not an ESPER bundle (it has no esper.json)",
                      2);
    if (args.has("config")) {
        auto config = readEsperConfig(args.get("config"));
        if (!config) return report(verb, config.error(), 2);
        o.config = config.value();
    }
    // --set, --free and --styles go on top of --config as one object, checked once.
    nlohmann::ordered_json overrides = nlohmann::ordered_json::object();
    for (const auto& setting : args.all("set")) {
        const size_t eq = setting.find('=');
        if (eq == std::string::npos || eq == 0)
            return report(verb, "--set takes KEY=VALUE, not '" + setting + "'", 2);
        const std::string key = setting.substr(0, eq), value = setting.substr(eq + 1);
        // A bare word is taken as a string, so --set mode=style works without quotes.
        auto parsed = parseOrderedJsonText(value, "--set " + key);
        overrides[key] = parsed ? parsed.value() : nlohmann::ordered_json(value);
    }
    if (args.has("free")) overrides["mode"] = "free";
    if (args.has("styles")) {
        overrides["mode"] = "style";
        overrides["styles"] = nlohmann::ordered_json::array();
        for (const auto& s : args.items("styles"))
            if (!s.empty()) overrides["styles"].push_back(s);
    }
    if (auto ok = applyEsperConfigJson(dumpJson(overrides), o.config, "the command line"); !ok)
        return report(verb, ok.error(), 2);
    if (auto ok = o.config.validate(); !ok) return report(verb, ok.error(), 2);
    readWhole(args, "iterations", o.iterations, 1, std::numeric_limits<int>::max());
    readWhole(args, "checkpoint-every", o.checkpointEvery, 0, std::numeric_limits<int>::max());
    readWhole(args, "seed", o.seed, 0);
    readWhole(args, "world-seed", o.worldSeed, 0);
    readWhole(args, "scenes", o.worldScenes, 1, 100000000);
    o.minutes = args.positive("minutes", o.minutes);
    readWhole(args, "preview-every", o.previewEvery, 0, std::numeric_limits<int>::max());
    readWhole(args, "preview-images", o.previewImages, 1, 64);
    std::string problem = args.problem();
    const ProgressStream progress(verb, progressIsJson(args.get("progress"), problem));
    if (!problem.empty()) return report(verb, problem, 2);
    o.randomMapper = args.has("random-mapper");
    o.logPath = args.get("log");
    o.resume = args.has("resume");
    o.device = args.get("device", "cpu");
    o.world = args.has("world");
    if (!o.world) {
#ifdef ESPER_WITH_MEDIA
        const auto inputs = collectImages(args.all("images"));
        std::string problems;
        for (const auto& [arg, why] : inputs.problems)
            problems += (problems.empty() ? "" : "; ") + arg + ": " + why;
        if (inputs.files.empty())
            return report(verb, "no images to learn from (" + problems + ")", 2);
        if (!problems.empty())
            std::fprintf(stderr, "esper %s: left out %s\n", verb, problems.c_str());
        std::string why;
        if (firstReadable(inputs.files, why).empty())
            return report(verb,
                          "none of the " + std::to_string(inputs.files.size()) +
                              " files could be read as an image (" + why + ")",
                          2);
        o.imagePaths = inputs.files;
        o.decodeImage = [](const std::string& path) { return media::decodeImageFile(path); };
#else
        return report(verb, "this build reads no image files (ESPER_ENGINE_ONLY); use --world", 2);
#endif
    }
    auto world = worldFromFlags(args);
    if (!world) return report(verb, world.error(), 2);
    if (auto ok = o.config.validateWorkers(world->size); !ok) return report(verb, ok.error(), 2);
    // This may restart the process, so it comes before the rendezvous.
    ensureBlasCoreType(argv);
    std::unique_ptr<Rendezvous> rendezvous;
    std::unique_ptr<Collectives> workers;
    if (world->distributed()) {
        // Every worker must run the same training: the same start, config, images and seed.
        const std::string job = o.bundleDir + "\n" + o.config.json() + "\n" +
                                std::to_string(o.world) + std::to_string(o.worldSeed) + "/" +
                                std::to_string(o.worldScenes) + "/" + std::to_string(o.seed) + "/" +
                                std::to_string(o.imagePaths.size());
        auto joined = Rendezvous::join(
            world.value(), "esper train esper #" + std::to_string(std::hash<std::string>{}(job)));
        if (!joined) return report(verb, joined.error(), 1);
        rendezvous = std::move(joined.value());
        auto group = Collectives::join(*rendezvous);
        if (!group) return report(verb, group.error(), 1);
        workers = std::move(group.value());
        o.workers = workers.get();
    }
    o.device = workerDevice(o.device, world.value());
    const bool lead = world->rank == 0; // the others train quietly
    o.cancel = interruptFlag();
    if (lead) {
        o.onMessage = [&progress](const std::string& line) { progress.message(line); };
        o.onPreview = [&progress](int iteration, const std::vector<PreviewCaption>& captions) {
            progress.preview(iteration, captions);
        };
    }
    o.onIteration = [&progress, lead](int done, int planned, double left,
                                      const std::map<std::string, double>& m) {
        if (!lead) return;
        auto get = [&](const char* k) { return m.count(k) ? m.at(k) : NAN; };
        std::string line = "iteration " + std::to_string(done) +
                           (planned > 0 ? "/" + std::to_string(planned) : "");
        char part[160];
        std::snprintf(part, sizeof part, "  cos %.3f  reward %.2f  kl %.2f  %.0f ep/s",
                      get("clip_cosine"), get("reward_total"), get("kl"),
                      get("episodes_per_second"));
        line += part;
        if (m.count("sample_f1")) {
            std::snprintf(part, sizeof part, "  f1 %.3f", get("sample_f1"));
            line += part;
        }
        if (m.count("workers")) {
            std::snprintf(part, sizeof part, "  %.0f workers, %.2f s exchanging", get("workers"),
                          get("seconds_exchange"));
            line += part;
        }
        if (m.count("eval_f1")) {
            std::snprintf(part, sizeof part, "  eval f1 %.3f", get("eval_f1"));
            line += part;
        }
        line += "  eta " + duration(left);
        progress.iteration(done, planned, left, m, line);
    };
    auto r = trainEsper(o);
    progress.finishLine();
    if (rendezvous) rendezvous->leave();
    if (!r) return report(verb, r.error(), trainingInterrupted() ? 130 : 1);
    if (!lead) return 0;
    auto out = summaryJson(r.value());
    out["iterations"] = r->iterations;
    out["episodes"] = r->episodes;
    out["episodes_per_second"] = r->episodesPerSecond;
    out["reward_gain"] = r->rewardGain;
    out["reward_bias"] = r->rewardBias;
    if (r->calibrationMean) out["calibration_mean"] = *r->calibrationMean;
    if (r->calibrationStd) out["calibration_std"] = *r->calibrationStd;
    if (r->evalF1Start) out["eval_f1_start"] = *r->evalF1Start;
    if (r->evalF1) out["eval_f1"] = *r->evalF1;
    return finishBundleTraining(verb, out, r->seconds, "iteration " + std::to_string(r->iterations),
                                o.outDir, r->skippedImages);
}

} // namespace esper::cli
