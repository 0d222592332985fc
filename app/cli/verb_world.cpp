#include "args.h"
#include "verbs.h"

#include "image_decoder.h"
#include "util/file_util.h"
#include "world/captions.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper world render --out DIR [--count N] [--first K] [--seed S] [--size PX]\n"
    "       esper world text --out FILE [--scenes N] [--first K] [--seed S] [--per-scene M]\n"
    "\n"
    "The synthetic world ESPER Studio trains and proves itself on: scenes of 1-3 coloured\n"
    "shapes with known content. Scene K of seed S is always the same scene, so training and\n"
    "held-out sets are separated by seed or index range.\n"
    "render: DIR/scene_K.png and DIR/scenes.jsonl with {image, image_id, scene, references}\n"
    "        (references: one caption per style), readable by `esper eval` and the studio.\n"
    "text:   'style: text' lines (all styles, M texts each per scene) for language models.\n";

int render(const Args& args) {
    const std::string out = args.get("out");
    if (out.empty()) return report("world render", "--out DIR is required", 2, kHelp);
    const uint64_t count = static_cast<uint64_t>(args.number("count").value_or(100));
    const uint64_t first = static_cast<uint64_t>(args.number("first").value_or(0));
    const uint64_t seed = static_cast<uint64_t>(args.number("seed").value_or(1));
    const int size = static_cast<int>(args.number("size").value_or(64));
    if (size < 8 || size > 1024) return report("world render", "--size must be 8..1024", 2);
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
        jsonl += nlohmann::ordered_json{{"image", name},
                                        {"image_id", std::to_string(i)},
                                        {"scene",
                                         nlohmann::ordered_json::parse(world::sceneJson(scene))},
                                        {"references", refs}}
                     .dump() +
                 "\n";
    }
    if (auto ok = writeFileAtomic(out + "/scenes.jsonl", jsonl); !ok)
        return report("world render", ok.error(), 1);
    std::printf("rendered %llu scenes (seed %llu, %d px) into %s\n", (unsigned long long)count,
                (unsigned long long)seed, size, out.c_str());
    return 0;
}

int text(const Args& args) {
    const std::string out = args.get("out");
    if (out.empty()) return report("world text", "--out FILE is required", 2, kHelp);
    const auto lines =
        world::corpusLines(static_cast<uint64_t>(args.number("seed").value_or(1)),
                           static_cast<uint64_t>(args.number("first").value_or(0)),
                           static_cast<uint64_t>(args.number("scenes").value_or(1000)),
                           static_cast<int>(args.number("per-scene").value_or(1)));
    std::string all;
    for (const auto& l : lines)
        all += l + "\n";
    if (auto ok = writeFileAtomic(out, all); !ok) return report("world text", ok.error(), 1);
    std::printf("wrote %zu lines to %s\n", lines.size(), out.c_str());
    return 0;
}

} // namespace

int runWorld(int argc, char** argv) {
    if (argc < 3 || (std::strcmp(argv[2], "render") && std::strcmp(argv[2], "text"))) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        return report("world", "say `render` or `text`", 2, kHelp);
    }
    const bool isRender = !std::strcmp(argv[2], "render");
    Args args;
    if (auto stop = args.parseVerb(
            argc - 1, argv + 1, isRender ? "world render" : "world text", kHelp,
            {{"out"}, {"count"}, {"first"}, {"seed"}, {"size"}, {"scenes"}, {"per-scene"}}, 0))
        return *stop;
    return isRender ? render(args) : text(args);
}

} // namespace esper::cli
