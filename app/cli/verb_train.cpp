#include "args.h"
#include "train_flags.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "training/trainers/mapper_train.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace esper::cli {

namespace {
const char* kOverview =
    "usage: esper train esper ...            ESPER: reinforcement learning with CLIP's reward,\n"
    "                                        no captions (the paper's method)\n"
    "       esper train supervised ...       the supervised ClipCap baseline on the world, or\n"
    "                                        fine-tuning a bundle on your captions (--pairs)\n"
    "       esper train style-generator ...  fine-tune a language model on 'style: text' lines\n"
    "       esper train sent-init ...        count a corpus's sentence-initial words\n\n"
    "'esper train KIND --help' describes each.\n";

const char* kHelp =
    "usage: esper train supervised --bundle START --pairs DATASET --out OUT_BUNDLE ...\n"
    "       (fine-tunes a bundle on your captions; add --help to that line for more)\n"
    "       esper train supervised --clip DIR --lm DIR --out MAPPER.safetensors\n"
    "                              [--prefix N] [--styles caption,news,...]\n"
    "                              [--fine-tune-lm DIR] [--ground-truth] [--world-seed S]\n"
    "                              [--scenes N]\n"
    "                              [training flags]\n\n"
    "The supervised ClipCap baseline on the synthetic world: ESPER's MLP mapper trained by\n"
    "teacher forcing on (CLIP image embedding, styled text) pairs, CLIP and the language model\n"
    "frozen. Each example takes one of --styles (default: all seven) prompted 'style:'.\n"
    "--fine-tune-lm DIR also trains the language model and saves it to DIR (ClipCap's MLP +\n"
    "GPT-2 variant). --prefix is the number of prefix embeddings (default 10, as ESPER).\n"
    "--ground-truth gives the mapper each scene's ground truth instead of CLIP's embedding\n"
    "(a perfect image encoder; CLIP only sets the input size), then captions 200 held-out\n"
    "scenes from theirs: what is still wrong is lost on the language model's side. Adds\n"
    "ground_truth_caption {object_f1, object_f1_by_objects, mispaired, size_accuracy,\n"
    "shape_after_colour (after 'a picture of a <size> <colour>' of an object whose colour\n"
    "is its own, how often its shape comes next), shape_after_colour_chance}.\n"
    "The log and checkpoint default to files beside MAPPER. Prints JSON: {steps,\n"
    "resumed_from, first_loss, last_loss, held_out_loss, held_out_mismatched_loss, seconds}:\n"
    "the teacher-forced loss on 256 held-out scenes with their own images and with another\n"
    "scene's image (the gap is what the mapper tells the language model).\n\n";
} // namespace

int runTrainSupervised(int argc, char** argv) {
#ifdef ESPER_WITH_MEDIA
    // With a bundle and a dataset of pairs it fine-tunes on the user's captions instead.
    for (int i = 3; i < argc; ++i)
        if (!std::strcmp(argv[i], "--pairs") || !std::strncmp(argv[i], "--pairs=", 8) ||
            !std::strcmp(argv[i], "--bundle") || !std::strncmp(argv[i], "--bundle=", 9))
            return runTrainSupervisedPairs(argc, argv);
#endif
    const std::string help = std::string(kHelp) + kTrainFlagsHelp;
    const char* verb = "train supervised";
    auto specs = trainFlagSpecs();
    for (const char* name : {"clip", "lm", "out"})
        specs.push_back({.name = name, .required = true});
    for (const char* name : {"prefix", "styles", "fine-tune-lm", "world-seed", "scenes"})
        specs.push_back({name});
    specs.push_back({"ground-truth", false});
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, help.c_str(), specs, 0)) return *stop;
    ensureBlasCoreType(argv);
    MapperTrainOptions o;
    o.clipDir = args.get("clip");
    o.lmDir = args.get("lm");
    o.outPath = args.get("out");
    o.fineTunedLmDir = args.get("fine-tune-lm");
    o.groundTruth = args.has("ground-truth");
    const auto stem = std::filesystem::path(o.outPath).replace_extension("").string();
    if (auto problem = applyTrainFlags(args, ".", o.train); !problem.empty())
        return report(verb, problem, 2);
    o.train.logPath = args.get("log", stem + "-train.jsonl");
    o.train.checkpointPath = args.get("checkpoint", stem + "-checkpoint.safetensors");
    readWhole(args, "prefix", o.prefixLength, 1, 1024);
    readWhole(args, "world-seed", o.worldSeed, 1);
    readWhole(args, "scenes", o.trainScenes, 1, 100000000);
    if (!args.problem().empty()) return report(verb, args.problem(), 2);
    if (args.has("styles")) {
        for (const auto& s : args.items("styles"))
            if (!s.empty()) o.styles.push_back(s);
        if (o.styles.empty()) return report(verb, "--styles names no style", 2);
    }
    auto r = trainSupervisedMapper(o);
    if (!r) return report(verb, r.error(), 1);
    auto out = summaryJson(r.value());
    out["held_out_loss"] = r->heldOutLoss;
    out["held_out_mismatched_loss"] = r->heldOutMismatchedLoss;
    if (const auto& g = r->groundTruthCaptions)
        out["ground_truth_caption"] = {{"object_f1", g->f1},
                                       {"object_f1_by_objects", g->f1ByObjects},
                                       {"mispaired", g->mispaired},
                                       {"size_accuracy", g->sizeAccuracy},
                                       {"scenes", g->scenes}};
    if (const auto& b = r->groundTruthBinding) {
        out["ground_truth_caption"]["shape_after_colour"] = b->accuracy;
        out["ground_truth_caption"]["shape_after_colour_chance"] = b->chance;
        out["ground_truth_caption"]["shape_after_colour_objects"] = b->objects;
    }
    return finishTraining("train supervised", out, r->seconds, "step " + std::to_string(r->steps),
                          "the same command with --resume continues from " +
                              o.train.checkpointPath);
}

int runTrain(int argc, char** argv) {
    const std::string kind = argc >= 3 ? argv[2] : "";
    if (kind == "esper") return runTrainEsper(argc, argv);
    if (kind == "supervised") return runTrainSupervised(argc, argv);
    if (kind == "style-generator") return runTrainStyleGenerator(argc, argv);
    if (kind == "sent-init") return runTrainSentInit(argc, argv);
    if (kind == "--help" || kind == "-h") {
        std::fputs(kOverview, stdout);
        return 0;
    }
    return report("train", "say `esper`, `supervised`, `style-generator` or `sent-init`", 2,
                  kOverview);
}

} // namespace esper::cli
