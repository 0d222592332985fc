#include "args.h"
#include "verbs.h"

#include "metrics/eval_set_json.h"
#include "util/file_util.h"

#include <cstdio>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper metrics FILE.json [--ptb]\n\n"
    "Scores one evaluation set as pycocoevalcap does: FILE holds \"refs\" {image: [captions]}\n"
    "and \"cands\" {image: caption} (other keys ignored), captions already tokenised\n"
    "(lowercase, space-separated). Prints one JSON object with Bleu_1..Bleu_4, ROUGE_L and\n"
    "CIDEr (CIDEr-D) at full precision, and the per-image values under per_image.\n"
    "  --ptb   tokenise raw captions first, as the COCO toolkit does (Stanford PTBTokenizer,\n"
    "          lowercased, its punctuation list removed)\n";
} // namespace

int runMetrics(int argc, char** argv) {
    Args args;
    if (auto stop = args.parseVerb(argc, argv, "metrics", kHelp, {{"ptb", false}}, 1,
                                   "give exactly one FILE.json"))
        return *stop;
    const std::string path = args.positional()[0];
    auto text = readTextFile(path);
    if (!text) return report("metrics", text.error(), 2);
    auto set = parseEvalSetJson(text.value(), path);
    if (!set) return report("metrics", set.error(), 2);
    if (args.has("ptb")) ptbTokenizeSet(set.value());
    if (const size_t cut = capCaptionLengths(set.value()))
        std::fprintf(stderr, "esper metrics: %s\n", capWarning(cut).c_str());
    std::printf("%s\n", metricsToJson(set.value(), computeTextMetrics(set.value())).c_str());
    return 0;
}

} // namespace esper::cli
