#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "bundle_flags.h"
#include "datasets/caption_dataset.h"
#include "image_decoder.h"
#include "util/json_text.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const std::string kHelp =
    std::string("usage: esper score --captions FILE [--references FILE] [options]\n\n"
                "CLIP-S (2.5 * max(cos, 0)) for captions you already have, and RefCLIP-S when\n"
                "references are given: e.g. to rank an annotation set. FILE is any dataset with\n"
                "candidate captions (JSONL from `esper caption`, COCO results, ...); image\n"
                "paths are read relative to FILE's folder or --images. Writes one JSON line per\n"
                "caption: {path, image_id, style, caption, clip_s, cosine, ref_clip_s?,\n"
                "ref_cosine?}, or {path, error}; the means go to stderr.\n\n"
                "  --references FILE       references to match by image id or file name\n"
                "  --images DIR            where relative image paths start\n"
                "  --photo-prefix          score with \"A photo depicts \" (clipscore.py)\n") +
    kBundleFlagsHelp;
} // namespace

int runScore(int argc, char** argv) {
    Args args;
    std::vector<OptionSpec> specs = {
        {"captions"}, {"references"}, {"images"}, {"photo-prefix", false}};
    auto more = bundleFlagSpecs();
    specs.insert(specs.end(), more.begin(), more.end());
    if (auto stop = args.parseVerb(argc, argv, "score", kHelp.c_str(), specs, 0)) return *stop;
    if (!args.has("captions")) return report("score", "--captions is required", 2, kHelp.c_str());
    auto captions = readDataset(args.get("captions"));
    if (!captions) return report("score", captions.error(), 2);
    std::optional<CaptionDataset> references;
    if (args.has("references")) {
        auto r = readDataset(args.get("references"));
        if (!r) return report("score", r.error(), 2);
        references = std::move(r.value());
    }
    ensureBlasCoreType(argv);
    int code = 0;
    auto captioner = loadBundleFromFlags("score", args, code);
    if (!captioner) return code;

    namespace fs = std::filesystem;
    const fs::path root =
        args.has("images") ? fs::path(args.get("images")) : fs::path(captions->baseDir);
    double sumS = 0, sumRef = 0;
    size_t scored = 0, withRefs = 0, failed = 0;
    for (const auto& rec : captions->records) {
        if (rec.candidates.empty()) continue;
        const std::string given = rec.imagePath.empty() ? rec.imageId : rec.imagePath;
        const std::string path = fs::path(given).is_absolute() ? given : (root / given).string();
        auto image = media::decodeImageFile(path);
        if (!image) {
            std::printf("%s\n",
                        dumpJson(nlohmann::json{{"path", path}, {"error", image.error()}}).c_str());
            ++failed;
            continue;
        }
        std::vector<std::string> refs;
        if (references) {
            const size_t at = references->matchImage(rec);
            if (at != SIZE_MAX)
                for (const auto& [style, list] : references->records[at].references)
                    refs.insert(refs.end(), list.begin(), list.end());
        }
        std::vector<std::string> texts, styles;
        for (const auto& [style, text] : rec.candidates) {
            styles.push_back(style);
            texts.push_back(text);
        }
        auto scores = captioner->score(image.value(), path, texts, refs, args.has("photo-prefix"));
        if (!scores) {
            std::printf(
                "%s\n",
                dumpJson(nlohmann::json{{"path", path}, {"error", scores.error()}}).c_str());
            ++failed;
            continue;
        }
        for (size_t i = 0; i < texts.size(); ++i) {
            const auto& s = scores.value()[i];
            nlohmann::ordered_json out{{"path", path},       {"image_id", rec.imageId},
                                       {"style", styles[i]}, {"caption", texts[i]},
                                       {"clip_s", s.clipS},  {"cosine", s.cosine}};
            if (s.refClipS) {
                out["ref_clip_s"] = *s.refClipS;
                out["ref_cosine"] = *s.refCosine;
                sumRef += *s.refClipS;
                ++withRefs;
            }
            sumS += s.clipS;
            ++scored;
            std::printf("%s\n", dumpJson(out).c_str());
        }
    }
    std::fprintf(stderr, "%zu caption(s) scored, %zu image(s) failed; mean CLIP-S %.4f", scored,
                 failed, scored ? sumS / double(scored) : NAN);
    if (withRefs) std::fprintf(stderr, ", mean RefCLIP-S %.4f", sumRef / double(withRefs));
    std::fprintf(stderr, "\n");
    return scored > 0 ? 0 : 1;
}

} // namespace esper::cli
