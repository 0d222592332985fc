#include "args.h"
#include "train_flags.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "training/trainers/audio_pretrain.h"
#include "training/trainers/clip_pretrain.h"
#include "training/trainers/lm_pretrain.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper pretrain clip --out DIR [--world-seed S] [--scenes N] [--image-size PX]\n"
    "                           [--patch PX] [--width W] [--layers L] [--projection D]\n"
    "                           [--tokenizer FILE]\n"
    "                           [--twins N [--twins-from STEP] [--twin-kind K]] [--init-std X]\n"
    "                           [training flags]\n"
    "       esper pretrain audio --clip DIR --out DIR [--world-seed S] [--scenes N]\n"
    "                            [--widths W1,W2,..] [--blocks B1,B2,..] [--align W]\n"
    "                            [--init DIR] [training flags]\n"
    "       esper pretrain lm --out DIR --tokenizer FILE [--world-seed S] [--scenes N]\n"
    "                         [--width W] [--layers L] [--positions N] [--device cpu|cuda[:N]]\n"
    "                         [--summaries K] [--summary-share P] [--init-std X]\n"
    "                         [training flags]\n\n"
    "clip: the project's small CLIP (ViT image tower + text tower, InfoNCE with a learned\n"
    "temperature) on the synthetic world's (image, text) pairs, with a sentencepiece tokenizer\n"
    "trained on the world's text. DIR becomes a Hugging Face CLIP folder (config.json,\n"
    "model.safetensors, tokenizer.model) that bundles, `esper eval --clip` and the studio load.\n"

    "Prints JSON: {steps, resumed_from, first_loss, last_loss, retrieval_top1, candidates,\n"
    "groups, shape_pairs, size_pairs, colour_pairs, binding_pairs, probe_scenes, binding_scenes,\n"
    "seconds}, where\n"
    "retrieval_top1 is image-to-text top-1 among 100 held-out scenes (chance: 1 %), averaged\n"
    "over 10 disjoint groups of 100, and each *_pairs is the share of held-out scenes whose\n"
    "image is closer to its caption than to the same caption with one object's shape, size or\n"
    "colour changed (chance: 0.5); binding_pairs is the same against two objects' shapes\n"
    "swapped, on the binding_scenes that have such a pair: which colour goes with which shape.\n"
    "--twins N puts N scenes of each batch (from step STEP on; default all steps) beside\n"
    "their twin, image and text both: with --twin-kind swap (the default) the scene with two\n"
    "objects' shapes swapped, with --twin-kind attribute the scene with one object's size\n"
    "(half the twins), shape or colour changed.\n"
    "--projection D (default 64) is the size of the embedding both towers project to.\n"
    "--init-std X (default 0.06) is the spread of its initial weights.\n"
    "audio: an audio encoder (the Wav2CLIP network: spectrogram, ResNet, MLP) trained as\n"
    "Wav2CLIP was, contrastively, to put each world scene's sound (`esper world render\n"
    "--audio`) where the frozen CLIP at --clip puts the scene's image, so that a mapper trained\n"
    "on that CLIP captions sounds. --widths and --blocks set the ResNet's stages (default\n"
    "16,32,64,128 and 1,1,1,1); --align W (default 4) weighs a cosine term that pulls each\n"
    "sound onto its image beside the InfoNCE ranking; --init DIR starts from an encoder of the\n"
    "same layout. Prints {steps, ..., retrieval_top1, mean_cosine,\n"
    "clip_feature_norm}: sound-to-image top-1 among 100 held-out scenes, the mean cosine of a\n"
    "scene's sound and image embeddings, and the mean norm of CLIP's image features (written\n"
    "to config.json: captioning scales sound embeddings to it).\n"
    "lm: the project's small GPT-2 on the world's 'style: text' lines (most documents hold\n"
    "two or three texts about one scene), with a sentencepiece tokenizer (e.g. the CLIP\n"
    "folder's tokenizer.model). Prints {steps, resumed_from, first_loss, last_loss,\n"
    "held_out_perplexity, context_loss, other_context_loss, copy_f1, copy_size_accuracy,\n"
    "copy_mispaired, seconds}: the context losses are a held-out text's loss after a text\n"
    "about the same scene and after one about another scene (the gap is what the model\n"
    "takes from its context, as it must from a prefix); copy_f1 is the object F1 of its\n"
    "greedy 'caption:' after a text about the scene, copy_size_accuracy the share of its\n"
    "sizes that are right, and copy_mispaired the share of the objects it names whose\n"
    "colour and shape are both in the scene but on different objects: how well a frozen LM\n"
    "carries a scene from what it reads into a caption (a mapper's prefix, not bound to\n"
    "words, can do a little better). --summaries K (default 10; 0: none) opens a share P\n"
    "(default 0.5) of the documents with K object summaries, positions that each hold one\n"
    "object as the sum of the embeddings of its words ' size colour shape' (text only): it\n"
    "teaches the model to read which colour goes with which shape from single positions, as\n"
    "it must from a mapper's prefix. summary_f1 and summary_mispaired are its greedy\n"
    "'caption:' after held-out scenes' summaries. --init-std X (default 0.06) is the spread\n"
    "of its initial weights (GPT-2's initializer_range).\n\n";

std::string helpText() {
    return std::string(kHelp) + kTrainFlagsHelp;
}

} // namespace

int runPretrain(int argc, char** argv) {
    const std::string help = helpText();
    if (argc < 3 || (std::strcmp(argv[2], "clip") && std::strcmp(argv[2], "lm") &&
                     std::strcmp(argv[2], "audio"))) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(help.c_str(), stdout);
            return 0;
        }
        return report("pretrain", "say `clip`, `lm` or `audio`", 2, help.c_str());
    }
    const bool lm = !std::strcmp(argv[2], "lm");
    const bool audio = !std::strcmp(argv[2], "audio");
    const char* verb = lm ? "pretrain lm" : audio ? "pretrain audio" : "pretrain clip";
    auto specs = trainFlagSpecs();
    for (const char* name :
         {"out",        "world-seed", "scenes",     "tokenizer",     "image-size", "patch",
          "width",      "layers",     "projection", "positions",     "device",     "twins",
          "twins-from", "twin-kind",  "summaries",  "summary-share", "init-std",   "clip",
          "widths",     "blocks",     "init",       "align"})
        specs.push_back({name});
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, help.c_str(), specs, 0)) return *stop;
    if (!args.has("out")) return report(verb, "--out DIR is required", 2, help.c_str());
    ensureBlasCoreType(argv);
    TrainSettings train;
    if (auto problem = applyTrainFlags(args, args.get("out"), train); !problem.empty())
        return report(verb, problem, 2);
    uint64_t worldSeed = 1;
    readWhole(args, "world-seed", worldSeed, 1, std::numeric_limits<int64_t>::max());
    std::optional<double> initStd; // both models' initial spread
    if (args.has("init-std")) initStd = args.positive("init-std", 0);
    constexpr int64_t kScenes = 100000000, kWidth = 8192;
    // Prints a finished run: the summary, then what `fields` adds from its report.
    auto finish = [&](const auto& trained, auto fields) {
        if (!trained) return report(verb, trained.error(), 1);
        nlohmann::ordered_json out = summaryJson(trained.value());
        fields(out, trained.value());
        return finishTraining(verb, out, trained->seconds, "step " + std::to_string(trained->steps),
                              "the checkpoint is in " + train.checkpointPath +
                                  ", and the same command with --resume continues from it");
    };
    if (lm) {
        LmPretrainOptions o;
        o.outDir = args.get("out");
        o.tokenizerPath = args.get("tokenizer");
        o.worldSeed = worldSeed;
        readWhole(args, "scenes", o.trainScenes, 1, kScenes);
        readWhole(args, "width", o.embd, 1, kWidth);
        readWhole(args, "layers", o.layers, 1, 256);
        readWhole(args, "positions", o.positions, 2, 65536);
        readWhole(args, "summaries", o.summaryPositions, 0, o.positions - 1);
        o.summaryShare = args.real("summary-share", o.summaryShare, 0, 1);
        if (!args.problem().empty()) return report(verb, args.problem(), 2);
        if (initStd) o.initStd = *initStd;
        o.device = args.get("device", "cpu");
        o.train = train;
        return finish(pretrainLm(o), [&](auto& out, const LmPretrainReport& r) {
            out.update(nlohmann::ordered_json{{"held_out_perplexity", r.heldOutPerplexity},
                                              {"context_loss", r.contextLoss},
                                              {"other_context_loss", r.otherContextLoss},
                                              {"copy_f1", r.copyF1},
                                              {"copy_size_accuracy", r.copySizeAccuracy},
                                              {"copy_mispaired", r.copyMispaired}});
            if (o.summaryPositions > 0) {
                out["summary_f1"] = r.summaryF1;
                out["summary_mispaired"] = r.summaryMispaired;
            }
        });
    }
    if (audio) {
        AudioPretrainOptions o;
        o.outDir = args.get("out");
        o.clipDir = args.get("clip");
        if (o.clipDir.empty()) return report(verb, "--clip DIR is required", 2, help.c_str());
        o.worldSeed = worldSeed;
        readWhole(args, "scenes", o.trainScenes, 1, kScenes);
        for (const auto& [flag, into, most] : {std::tuple{"widths", &o.widths, int64_t{4096}},
                                               std::tuple{"blocks", &o.blocks, int64_t{64}}}) {
            if (!args.has(flag)) continue;
            into->clear();
            for (const auto& item : args.items(flag)) {
                const auto v = parseWhole(item);
                if (!v || *v < 1 || *v > most)
                    return report(verb,
                                  std::string("--") + flag + " takes whole numbers 1.." +
                                      std::to_string(most) + ", comma-separated",
                                  2);
                into->push_back(*v);
            }
        }
        if (o.widths.size() != o.blocks.size())
            return report(verb, "--widths and --blocks must name as many stages", 2);
        if (!args.problem().empty()) return report(verb, args.problem(), 2);
        o.mlpHidden = o.widths.back();
        o.initFrom = args.get("init");
        o.alignWeight = args.real("align", o.alignWeight, 0, 1000);
        if (!args.problem().empty()) return report(verb, args.problem(), 2);
        o.train = train;
        return finish(pretrainAudioEncoder(o), [](auto& out, const AudioPretrainReport& r) {
            out["retrieval_top1"] = r.retrievalTop1;
            out["mean_cosine"] = r.meanCosine;
            out["clip_feature_norm"] = r.clipFeatureNorm;
        });
    }
    if (args.has("device") && args.get("device") != "cpu")
        return report(verb, "--device is for `pretrain lm`; CLIP trains on the CPU", 2);
    ClipPretrainOptions o;
    o.outDir = args.get("out");
    o.tokenizerPath = args.get("tokenizer");
    o.worldSeed = worldSeed;
    readWhole(args, "scenes", o.trainScenes, 1, kScenes);
    readWhole(args, "image-size", o.imageSize, 1, 4096);
    readWhole(args, "patch", o.patchSize, 1, 4096);
    readWhole(args, "width", o.hidden, 1, kWidth);
    readWhole(args, "layers", o.layers, 1, 256);
    readWhole(args, "projection", o.projection, 1, kWidth);
    readWhole(args, "twins", o.twins, 0, 100000);
    readWhole(args, "twins-from", o.twinsFrom, 0, std::numeric_limits<int>::max());
    if (!args.problem().empty()) return report(verb, args.problem(), 2);
    if (args.has("twin-kind")) {
        const std::string kind = args.get("twin-kind");
        if (kind != "swap" && kind != "attribute")
            return report(verb, "--twin-kind is `swap` or `attribute`", 2);
        o.twinKind =
            kind == "swap" ? world::TwinKind::SwappedShapes : world::TwinKind::ChangedAttribute;
    }
    if (initStd) o.initStd = *initStd;
    o.train = train;
    return finish(pretrainClip(o), [](auto& out, const ClipPretrainReport& r) {
        out["retrieval_top1"] = r.retrievalTop1;
        out["candidates"] = r.candidates;
        out["groups"] = r.groups;
        world::addAttributeFields(out, r.attributes);
    });
}

} // namespace esper::cli
