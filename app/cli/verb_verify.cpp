#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"

#include "verify/reference_check.h"

#include <cstdio>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper verify-reference MODEL_DIR [--io FILE] [--device cpu|cuda[:N]]\n"
    "                              [--dtype T[,T..]] [--tolerance X] [--json]\n\n"
    "Loads MODEL_DIR (config.json + model.safetensors: GPT-2, LLaMA or CLIP), runs the inputs\n"
    "recorded in its io.safetensors (or --io FILE) and compares every recorded output: max\n"
    "absolute difference for values, exact equality for greedy tokens. Exits 1 when any output\n"
    "is past the tolerance, 2 on a usage or loading error. --dtype fp32 (default), bf16, fp16\n"
    "or int8 (on the CPU: compressed weights), or several, e.g. fp32,fp16,int8, one report\n"
    "each; the default tolerance follows the precision the model runs in: 1e-4 fp32, 1e-3\n"
    "fp16 weights on the CPU, 0.02 int8 and fp16 on CUDA, 0.1 bf16. CLIP's products run in\n"
    "bf16 in every compressed CPU mode where the CPU has AMX (ESPER_CPU_BF16=0: fp32; =1: bf16).\n";

void printReport(const ReferenceReport& r) {
    std::printf("%s model on %s\n", r.family.c_str(), r.device.c_str());
    for (const auto& c : r.checks) {
        if (c.isTokens)
            std::printf("  %-20s tokens %s (%lld of %lld differ)\n", c.name.c_str(),
                        c.mismatches == 0 ? "match" : "DIFFER", (long long)c.mismatches,
                        (long long)c.count);
        else
            std::printf("  %-20s max |diff| %.3e  (tolerance %.1e)  %s\n", c.name.c_str(),
                        c.maxAbsDiff, c.tolerance, c.passed ? "ok" : "FAIL");
    }
    std::printf("%s\n", r.passed() ? "PASS" : "FAIL");
}

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
    const double tolerance = args.real("tolerance", -1, 0);
    if (!args.problem().empty()) return report("verify-reference", args.problem(), 2);
    const auto dtypes = args.has("dtype") ? args.items("dtype") : std::vector<std::string>{"fp32"};
    bool passed = true;
    std::string json;
    for (const auto& dtype : dtypes) {
        options.dtype = dtype;
        options.tolerance = tolerance; // < 0: the precision's own
        auto result = verifyReference(args.positional()[0], options);
        if (!result) return report("verify-reference", result.error(), 2);
        passed = passed && result->passed();
        if (args.has("json")) {
            json += (json.empty() ? "" : ",\n") + result->toJson();
            continue;
        }
        printReport(result.value());
    }
    if (args.has("json"))
        std::printf("%s\n", dtypes.size() > 1 ? ("[" + json + "]").c_str() : json.c_str());
    return passed ? 0 : 1;
}

} // namespace esper::cli
