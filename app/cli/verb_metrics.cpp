#include "args.h"
#include "verbs.h"

#include "metrics/eval_set_json.h"
#include "util/file_util.h"

#include <cstdio>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper metrics FILE.json\n\n"
    "Scores one evaluation set as pycocoevalcap does: FILE holds \"refs\" {image: [captions]}\n"
    "and \"cands\" {image: caption} (other keys ignored), captions already tokenised\n"
    "(lowercase, space-separated). Prints one JSON object with Bleu_1..Bleu_4, ROUGE_L and\n"
    "CIDEr (CIDEr-D) at full precision, and the per-image values under per_image.\n";
} // namespace

int runMetrics(int argc, char** argv) {
    Args args;
    const std::string err = args.parse(argc, argv, 2, {{"help", false}});
    if (args.has("help")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    if (!err.empty() || args.positional().size() != 1) {
        std::fprintf(stderr, "esper metrics: %s\n\n%s",
                     err.empty() ? "give exactly one FILE.json" : err.c_str(), kHelp);
        return 2;
    }
    const std::string path = args.positional()[0];
    auto text = readTextFile(path);
    if (!text) {
        std::fprintf(stderr, "esper metrics: %s\n", text.error().c_str());
        return 2;
    }
    auto set = parseEvalSetJson(text.value(), path);
    if (!set) {
        std::fprintf(stderr, "esper metrics: %s\n", set.error().c_str());
        return 2;
    }
    std::printf("%s\n", metricsToJson(set.value(), computeTextMetrics(set.value())).c_str());
    return 0;
}

} // namespace esper::cli
