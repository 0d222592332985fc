#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "bundle/bundle_manifest.h"
#include "image_decoder.h"
#include "io/model_config.h"
#include "train_flags.h"
#include "training/demo/demo_build.h"
#include "util/file_util.h"
#include "util/json_text.h"
#include "wav_format.h"
#include "world/captions.h"
#include "world/scene_sound.h"
#include "world/world_eval.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper world render --out DIR [--count N] [--first K] [--seed S] [--size PX]\n"
    "                          [--audio]\n"
    "       esper world text --out FILE [--scenes N] [--first K] [--seed S] [--per-scene M]\n"
    "       esper world build-demo --out DIR [--clip-steps N] [--clip-batch B] [--lm-steps N]\n"
    "                              [--mapper-steps N] [--lm-width W] [--lm-layers L]\n"
    "                              [--eval-scenes N] [--seed S] [--resume]\n"
    "       esper world eval --bundle DIR [--scenes N] [--first K] [--seed S] [--style S]...\n"
    "                        [--device D] [--dtype T] [--per-scene FILE.jsonl] [--json]\n"
    "                        [--modality image|audio]\n"
    "\n"
    "The synthetic world ESPER Studio trains and proves itself on: scenes of 1-3 coloured\n"
    "shapes with known content. Scene K of seed S is always the same scene, so training and\n"
    "held-out sets are separated by seed or index range.\n"
    "render: DIR/scene_K.png and DIR/scenes.jsonl with {image, image_id, scene, references}\n"
    "        (references: one caption per style), readable by `esper eval` and the studio.\n"
    "        --audio adds each scene's sound, DIR/scene_K.wav (16 kHz mono; pitch from colour,\n"
    "        timbre from shape, length and loudness from size, onset from the horizontal place,\n"
    "        envelope from the height), listed as \"audio\" in scenes.jsonl.\n"
    "text:   'style: text' lines (all styles, M texts each per scene) for language models.\n"
    "build-demo: trains the project's CLIP and GPT-2 on the world and the supervised mapper\n"
    "        between them (the LM frozen), writes the ESPER bundle to DIR, and prints JSON: CLIP\n"
    "        held-out retrieval, LM perplexity, and the object F1 of greedy captions on held-out\n"
    "        scenes with the trained mapper and with a random one (the floor). Ctrl+C stops it\n"
    "        with checkpoints in DIR/.work; --resume continues from them. An LM that has not\n"
    "        learnt to copy from its context (copy F1 under 0.4 on validation scenes) is\n"
    "        followed by one more seed, and the better of the two is kept.\n"
    "eval:   captions held-out scenes (from scene 1000000 of seed 1 unless told) in every style\n"
    "        of the bundle (or each --style) and reads them back against the ground truth:\n"
    "        object precision / recall / F1, the share of stated sizes and relations that are\n"
    "        right, CLIP-S, and BLEU-4 / CIDEr-D against 5 world texts of the same style;\n"
    "        then probes the bundle's CLIP: image-to-text top-1 among 100 scenes (mean of 10\n"
    "        groups) and how often a scene's caption is closer to its image than the same\n"
    "        caption with one object's shape, size or colour changed, or two objects' shapes\n"
    "        swapped (chance: 50 %); and, for a world LM, its greedy 'caption:' after a text\n"
    "        about each of 200 held-out scenes (object F1, sizes right): how much it carries\n"
    "        from its context, the mark to read a mapper on it against. The table's 1 / 2 / 3\n"
    "        obj columns are the F1 on scenes with that many objects: a caption that pairs\n"
    "        the right colours and shapes at random scores about 1, 1/2 and 1/3. --per-scene\n"
    "        adds the LM's copies as 'lm copy' lines with their context.\n"
    "        --modality audio captions each scene from its sound alone, through the bundle's\n"
    "        audio encoder and the same mapper; CLIP-S is then audio CLIP-S.\n";

int render(const Args& args) {
    const std::string out = args.get("out");
    if (out.empty()) return report("world render", "--out DIR is required", 2, kHelp);
    const auto count = static_cast<uint64_t>(args.integer("count", 100, 1, 10000000));
    const auto first = static_cast<uint64_t>(args.integer("first", 0, 0));
    const auto seed = static_cast<uint64_t>(args.integer("seed", 1, 0));
    const int size = static_cast<int>(args.integer("size", 64, 8, 1024));
    if (!args.problem().empty()) return report("world render", args.problem(), 2);
    const bool audio = args.has("audio");
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) return report("world render", "cannot create " + out + ": " + ec.message(), 1);
    std::string jsonl;
    std::mt19937_64 rng(seed + 17);
    for (uint64_t i = first; i < first + count; ++i) {
        const auto scene = world::generateScene(seed, i);
        const std::string name = "scene_" + std::to_string(i) + ".png";
        if (auto ok =
                media::encodeImageFile(world::renderScene(scene, size, size), out + "/" + name);
            !ok)
            return report("world render", ok.error(), 1);
        nlohmann::ordered_json refs = nlohmann::ordered_json::object();
        for (const auto& style : world::worldStyles())
            refs[style] = {world::describeScene(scene, style, rng)};
        nlohmann::ordered_json record{{"image", name}, {"image_id", std::to_string(i)}};
        if (audio) {
            const std::string sound = "scene_" + std::to_string(i) + ".wav";
            if (auto ok = media::writeWavFile(world::renderSceneSound(scene), out + "/" + sound);
                !ok)
                return report("world render", ok.error(), 1);
            record["audio"] = sound;
        }
        record["scene"] = nlohmann::ordered_json::parse(world::sceneJson(scene));
        record["references"] = refs;
        jsonl += dumpJson(record) + "\n";
    }
    if (auto ok = writeFileAtomic(out + "/scenes.jsonl", jsonl); !ok)
        return report("world render", ok.error(), 1);
    std::printf("rendered %llu scenes (seed %llu, %d px) into %s\n", (unsigned long long)count,
                (unsigned long long)seed, size, out.c_str());
    return 0;
}

int buildDemoCommand(const Args& args, char** argv) {
    const std::string out = args.get("out");
    if (out.empty()) return report("world build-demo", "--out DIR is required", 2, kHelp);
    ensureBlasCoreType(argv);
    DemoBuildOptions o;
    o.outDir = out;
    constexpr int64_t kMost = 1000000;
    o.clipSteps = static_cast<int>(args.integer("clip-steps", o.clipSteps, 1, kMost));
    // InfoNCE needs other scenes in the batch to tell each image's text from.
    o.clipBatch = static_cast<int>(args.integer("clip-batch", o.clipBatch, 2, 4096));
    o.lmSteps = static_cast<int>(args.integer("lm-steps", o.lmSteps, 1, kMost));
    o.mapperSteps = static_cast<int>(args.integer("mapper-steps", o.mapperSteps, 1, kMost));
    o.lmWidth = static_cast<int>(args.integer("lm-width", o.lmWidth, 8, 4096));
    o.lmLayers = static_cast<int>(args.integer("lm-layers", o.lmLayers, 1, 64));
    o.evalScenes = static_cast<int>(args.integer("eval-scenes", o.evalScenes, 1, 100000));
    o.seed = static_cast<uint64_t>(args.integer("seed", 1, 0));
    if (!args.problem().empty()) return report("world build-demo", args.problem(), 2);
    // The LM has 4 attention heads, which share its width.
    if (o.lmWidth % 4) return report("world build-demo", "--lm-width must be a multiple of 4", 2);
    o.resume = args.has("resume");
    o.cancel = interruptFlag();
    o.onStage = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    auto r = buildDemo(o);
    if (!r) return report("world build-demo", r.error(), trainingInterrupted() ? 130 : 1);
    std::printf("%s\n", r->json().c_str());
    return 0;
}

int evaluate(const Args& args, char** argv) {
    if (!args.has("bundle")) return report("world eval", "--bundle DIR is required", 2, kHelp);
    ensureBlasCoreType(argv);
    world::WorldEvalOptions o;
    o.bundleDir = args.get("bundle");
    o.device = args.get("device", o.device);
    o.dtype = args.get("dtype", o.dtype);
    o.scenes = static_cast<int>(args.integer("scenes", o.scenes, 1, 100000));
    o.firstScene = static_cast<uint64_t>(args.integer("first", int64_t(o.firstScene), 0));
    o.worldSeed = static_cast<uint64_t>(args.integer("seed", 1, 0));
    o.styles = args.all("style");
    if (!args.problem().empty()) return report("world eval", args.problem(), 2);
    if (const std::string m = args.get("modality", "image"); m == "audio")
        o.modality = world::Modality::Audio;
    else if (m != "image")
        return report("world eval", "--modality is `image` or `audio`", 2);
    // The bundle's CLIP sees the world at its own resolution.
    if (auto manifest = readBundleManifest(o.bundleDir); manifest) {
        if (auto config = readModelConfig(manifest->clip.path); config)
            if (auto* clip = std::get_if<ClipConfig>(&config.value()))
                o.imageSize = static_cast<int>(clip->imageSize);
        o.clipDir = manifest->clip.path;
        // Only a world LM (with its sentencepiece tokenizer) can be asked to copy a world text.
        if (std::filesystem::exists(std::filesystem::path(manifest->lm.path) / "tokenizer.model"))
            o.lmDir = manifest->lm.path;
    }
    const bool tty = ::isatty(2);
    o.onProgress = [tty](int done, int total) {
        if (tty && (done % 10 == 0 || done == total))
            std::fprintf(stderr, "\r\033[Kscene %d/%d%s", done, total, done == total ? "\n" : "");
    };
    auto r = world::evaluateOnWorld(o);
    if (!r) return report("world eval", r.error(), 1);
    if (args.has("per-scene")) {
        std::string lines;
        for (const auto& scene : r->perScene)
            for (size_t s = 0; s < r->styles.size(); ++s)
                lines += dumpJson(nlohmann::ordered_json{{"scene", scene.scene},
                                                         {"style", r->styles[s].style},
                                                         {"caption", scene.captions[s]},
                                                         {"object_f1", scene.f1[s]}}) +
                         "\n";
        if (r->lmCopy)
            for (const auto& c : r->lmCopy->samples)
                lines += dumpJson(nlohmann::ordered_json{{"scene", c.scene},
                                                         {"style", "lm copy"},
                                                         {"context", c.context},
                                                         {"caption", c.caption},
                                                         {"object_f1", c.f1}}) +
                         "\n";
        if (auto ok = writeFileAtomic(args.get("per-scene"), lines); !ok)
            return report("world eval", ok.error(), 1);
    }
    std::printf("%s", args.has("json") ? (r->json() + "\n").c_str() : r->table().c_str());
    return 0;
}

int text(const Args& args) {
    const std::string out = args.get("out");
    if (out.empty()) return report("world text", "--out FILE is required", 2, kHelp);
    const auto seed = static_cast<uint64_t>(args.integer("seed", 1, 0));
    const auto first = static_cast<uint64_t>(args.integer("first", 0, 0));
    const auto scenes = static_cast<uint64_t>(args.integer("scenes", 1000, 1, 10000000));
    const int perScene = static_cast<int>(args.integer("per-scene", 1, 1, 100));
    if (!args.problem().empty()) return report("world text", args.problem(), 2);
    const auto lines = world::corpusLines(seed, first, scenes, perScene);
    std::string all;
    for (const auto& l : lines)
        all += l + "\n";
    if (auto ok = writeFileAtomic(out, all); !ok) return report("world text", ok.error(), 1);
    std::printf("wrote %zu lines to %s\n", lines.size(), out.c_str());
    return 0;
}

} // namespace

int runWorld(int argc, char** argv) {
    if (argc < 3 || (std::strcmp(argv[2], "render") && std::strcmp(argv[2], "text") &&
                     std::strcmp(argv[2], "build-demo") && std::strcmp(argv[2], "eval"))) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        return report("world", "say `render`, `text`, `build-demo` or `eval`", 2, kHelp);
    }
    const std::string sub = argv[2];
    Args args;
    const std::string verb = "world " + sub;
    if (auto stop = args.parseVerb(
            argc - 1, argv + 1, verb.c_str(), kHelp,
            {{"out"},          {"count"},         {"first"},      {"seed"},
             {"size"},         {"scenes"},        {"per-scene"},  {"clip-steps"},
             {"lm-steps"},     {"mapper-steps"},  {"lm-width"},   {"lm-layers"},
             {"eval-scenes"},  {"resume", false}, {"bundle"},     {"style", true, true},
             {"device"},       {"dtype"},         {"clip-batch"}, {"json", false},
             {"audio", false}, {"modality"}},
            0))
        return *stop;
    if (sub == "render") return render(args);
    if (sub == "text") return text(args);
    if (sub == "eval") return evaluate(args, argv);
    return buildDemoCommand(args, argv);
}

} // namespace esper::cli
