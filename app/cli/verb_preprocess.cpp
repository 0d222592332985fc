#include "args.h"
#include "verbs.h"

#include "image/clip_preprocess.h"
#include "image_decoder.h"
#include "io/safetensors.h"
#include "util/json_text.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper preprocess IMAGE [--size N] [--out FILE.safetensors]\n\n"
    "Decodes IMAGE and applies CLIP's preprocessing (Pillow bicubic resize of the shortest side\n"
    "to N, default 224, centre crop, normalise). Prints the sizes and per-channel means as JSON;\n"
    "--out writes `resized_cropped_u8` [N,N,3] and `pixel_values` [3,N,N] as safetensors.\n";
} // namespace

int runPreprocess(int argc, char** argv) {
    Args args;
    if (auto stop = args.parseVerb(argc, argv, "preprocess", kHelp, {{"size"}, {"out"}}, 1,
                                   "give exactly one IMAGE"))
        return *stop;
    ClipPreprocessConfig config;
    config.size = static_cast<int>(args.integer("size", config.size, 1, 4096));
    if (!args.problem().empty()) return report("preprocess", args.problem(), 2);
    const std::string path = args.positional()[0];
    auto image = media::decodeImageFile(path);
    if (!image) return report("preprocess", image.error(), 1);
    const auto [rw, rh] = clipResizedSize(image->width, image->height, config.size);
    const RgbImage cropped = clipResizeAndCrop(image.value(), config.size);
    const std::vector<float> pixels = clipNormalize(cropped, config);
    nlohmann::ordered_json j;
    j["path"] = path;
    j["width"] = image->width;
    j["height"] = image->height;
    j["resized_to_wh"] = {rw, rh};
    const size_t plane = static_cast<size_t>(config.size) * config.size;
    for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (size_t i = 0; i < plane; ++i)
            sum += pixels[c * plane + i];
        j["pixel_mean"].push_back(sum / plane);
    }
    if (args.has("out")) {
        const int64_t n = config.size;
        auto written = writeSafetensors(
            args.get("out"), {{"resized_cropped_u8", DType::U8, {n, n, 3}, cropped.pixels.data()},
                              {"pixel_values", DType::F32, {3, n, n}, pixels.data()}});
        if (!written) return report("preprocess", written.error(), 1);
        j["out"] = args.get("out");
    }
    std::printf("%s\n", dumpJson(j, 2).c_str());
    return 0;
}

} // namespace esper::cli
