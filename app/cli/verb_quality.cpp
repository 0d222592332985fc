// `esper quality DATASET`: the review table's quality checks for scripted dataset QA.
#include "args.h"
#include "verbs.h"

#include "datasets/caption_dataset.h"
#include "quality/caption_quality.h"
#include "util/json_text.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper quality DATASET [--json] [--min-words N] [--repeat N] [--low-clip-sigmas X]\n"
    "                     [--duplicate X] [--prompt TEXT]...\n\n"
    "Checks every caption of DATASET (any format `esper eval` reads: its candidates, or its\n"
    "references when it has none) for what needs review: a repetition loop (an n-gram --repeat\n"
    "times, default 3), a caption that did not end (it stops on 'a', 'and', 'of', a comma...),\n"
    "one shorter than --min-words (default 3), a CLIP-S more than --low-clip-sigmas (default 2)\n"
    "standard deviations below the mean of its style (when the file has CLIP-S, as esper\n"
    "caption writes it), a caption much like its neighbour's (word-trigram overlap >= "
    "--duplicate,\n"
    "default 0.8) and a style prompt in the text (the presets' 'caption:', 'news:'..., or each\n"
    "--prompt). Prints one line per flagged caption and a summary; --json prints one object per\n"
    "line, {\"image\", \"image_id\", \"style\", \"caption\", \"flags\", \"reasons\"}, then\n"
    "{\"summary\": ...}. Exit status: 0 when nothing is flagged, 1 when something is, 2 for a\n"
    "usage or reading error.\n";
} // namespace

int runQuality(int argc, char** argv) {
    const std::vector<OptionSpec> options{{"json", false}, {"min-words"},
                                          {"repeat"},      {"low-clip-sigmas"},
                                          {"duplicate"},   {"prompt", true, true}};
    Args args;
    if (auto stop =
            args.parseVerb(argc, argv, "quality", kHelp, options, 1, "give exactly one DATASET"))
        return *stop;
    QualityOptions o;
    readWhole(args, "min-words", o.minWords, 0, 1000);
    readWhole(args, "repeat", o.repeatedNgramTimes, 2, 1000);
    o.lowClipSSigmas = args.positive("low-clip-sigmas", o.lowClipSSigmas);
    o.duplicateJaccard = args.real("duplicate", o.duplicateJaccard, 0, 1);
    o.prompts = args.all("prompt");
    if (!args.problem().empty()) return report("quality", args.problem(), 2);
    auto data = readDataset(args.positional()[0]);
    if (!data) return report("quality", data.error(), 2);

    struct Where {
        const CaptionRecord* record;
        std::string style;
    };
    std::vector<CaptionToCheck> captions;
    std::vector<Where> where;
    for (const auto& rec : data->records) {
        if (!rec.candidates.empty()) {
            for (const auto& [style, text] : rec.candidates) {
                const auto score = rec.candidateClipS.find(style);
                captions.push_back({text,
                                    score == rec.candidateClipS.end()
                                        ? std::nullopt
                                        : std::optional<double>(score->second),
                                    std::nullopt, style});
                where.push_back({&rec, style});
            }
            continue;
        }
        for (const auto& [style, refs] : rec.references)
            for (const auto& text : refs) {
                captions.push_back({text, std::nullopt, std::nullopt, style});
                where.push_back({&rec, style});
            }
    }
    const auto results = checkCaptions(captions, o);
    const bool json = args.has("json");
    std::map<std::string, int> byFlag;
    int flagged = 0;
    for (size_t i = 0; i < results.size(); ++i) {
        const auto& q = results[i];
        if (!q.flagged()) continue;
        ++flagged;
        const auto& rec = *where[i].record;
        std::vector<std::string> names;
        for (auto f : q.flags) {
            names.push_back(qualityFlagName(f));
            ++byFlag[names.back()];
        }
        const std::string image = rec.imagePath.empty() ? rec.imageId : rec.imagePath;
        if (json) {
            nlohmann::ordered_json line{{"image", image},          {"image_id", rec.imageId},
                                        {"style", where[i].style}, {"caption", captions[i].text},
                                        {"flags", names},          {"reasons", q.reasons}};
            std::printf("%s\n", dumpJson(line).c_str());
        } else {
            std::string reasons;
            for (size_t k = 0; k < names.size(); ++k)
                reasons += (k ? "; " : "") + names[k] + ": " + q.reasons[k];
            std::printf("%s%s%s  %s\n", image.c_str(), where[i].style.empty() ? "" : " ",
                        where[i].style.c_str(), reasons.c_str());
        }
    }
    if (json) {
        std::printf("%s\n", dumpJson(nlohmann::ordered_json{{"summary",
                                                             {{"captions", captions.size()},
                                                              {"flagged", flagged},
                                                              {"by_flag", byFlag}}}})
                                .c_str());
    } else {
        std::printf("%d of %zu captions need review", flagged, captions.size());
        for (const auto& [name, n] : byFlag)
            std::printf("%s %s %d", name == byFlag.begin()->first ? ":" : ",", name.c_str(), n);
        std::printf("\n");
    }
    return flagged > 0 ? 1 : 0;
}

} // namespace esper::cli
