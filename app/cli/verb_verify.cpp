#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"

#include "verify/reference_check.h"

#include <cstdio>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper verify-reference MODEL_DIR [--io FILE] [--device cpu|cuda[:N]]\n"
    "                              [--dtype fp32|fp16|bf16|int8] [--tolerance X] [--json]\n\n"
    "Loads MODEL_DIR (config.json + model.safetensors: GPT-2, LLaMA or CLIP), runs the inputs\n"
    "recorded in its io.safetensors (or --io FILE) and compares every recorded output: max\n"
    "absolute difference for values, exact equality for greedy tokens. Exits 1 when any output\n"
    "is past the tolerance (default 1e-4), 2 on a usage or loading error.\n";
} // namespace

int runVerifyReference(int argc, char** argv) {
    Args args;
    if (auto stop = args.parseVerb(argc, argv, "verify-reference", kHelp,
                                   {{"io"}, {"device"}, {"dtype"}, {"tolerance"}, {"json", false}},
                                   1, "give exactly one MODEL_DIR"))
        return *stop;
    ensureBlasCoreType(argv); // models run from here on
    ReferenceOptions options;
    options.ioPath = args.get("io");
    options.device = args.get("device", "cpu");
    options.dtype = args.get("dtype", "fp32");
    options.tolerance = args.real("tolerance", options.tolerance, 0);
    if (!args.problem().empty()) return report("verify-reference", args.problem(), 2);
    auto result = verifyReference(args.positional()[0], options);
    if (!result) return report("verify-reference", result.error(), 2);
    if (args.has("json")) {
        std::printf("%s\n", result->toJson().c_str());
    } else {
        std::printf("%s model on %s\n", result->family.c_str(), result->device.c_str());
        for (const auto& c : result->checks) {
            if (c.isTokens)
                std::printf("  %-20s tokens %s (%lld of %lld differ)\n", c.name.c_str(),
                            c.mismatches == 0 ? "match" : "DIFFER", (long long)c.mismatches,
                            (long long)c.count);
            else
                std::printf("  %-20s max |diff| %.3e  (tolerance %.1e)  %s\n", c.name.c_str(),
                            c.maxAbsDiff, c.tolerance, c.passed ? "ok" : "FAIL");
        }
        std::printf("%s\n", result->passed() ? "PASS" : "FAIL");
    }
    return result->passed() ? 0 : 1;
}

} // namespace esper::cli
