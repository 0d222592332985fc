#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "bundle/bundle_builder.h"
#include "bundle_flags.h"
#include "util/input_limits.h"

#include <cstdio>
#include <cstring>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper bundle check [DIR] [--models-dir DIR] [--device D] [--dtype T]\n"
    "       esper bundle create DIR --clip MODEL --lm MODEL [--clip-tokenizer DIR]\n"
    "                          [--lm-tokenizer DIR] [--prefix-length K] [--style S]...\n"
    "                          [--name NAME] [--seed N] [--models-dir DIR]\n\n"
    "check:  loads a bundle (default: $ESPER_BUNDLE or the demo) and reports its pieces,\n"
    "        sizes and device; exits 1 when something is missing or does not fit.\n"
    "create: a new bundle around a CLIP model and a language model (registry ids such as\n"
    "        openai/clip-vit-base-patch32 and gpt2, or folders) with a randomly initialised\n"
    "        mapper of the right shape: where ESPER training starts.\n";
} // namespace

int runBundle(int argc, char** argv) {
    if (argc < 3 || (std::strcmp(argv[2], "check") && std::strcmp(argv[2], "create"))) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        return report("bundle", "say `check` or `create`", 2, kHelp);
    }
    const bool check = !std::strcmp(argv[2], "check");
    Args args;
    if (check) {
        if (auto stop = args.parseVerb(argc - 1, argv + 1, "bundle check", kHelp,
                                       {{"models-dir"}, {"device"}, {"dtype"}}))
            return *stop;
        if (args.positional().size() > 1)
            return report("bundle check", "give at most one bundle folder", 2, kHelp);
        ensureBlasCoreType(argv);
        int code = 0;
        auto captioner = loadBundleFromFlags("bundle check", args, code,
                                             args.positional().empty() ? "" : args.positional()[0]);
        if (!captioner) return code == 2 ? 1 : code;
        std::printf("%sOK\n", captioner->describe().c_str());
        return 0;
    }
    if (auto stop = args.parseVerb(argc - 1, argv + 1, "bundle create", kHelp,
                                   {{"clip"},
                                    {"lm"},
                                    {"clip-tokenizer"},
                                    {"lm-tokenizer"},
                                    {"prefix-length"},
                                    {"style", true, true},
                                    {"name"},
                                    {"seed"},
                                    {"models-dir"}},
                                   1, "give the new bundle's folder"))
        return *stop;
    if (!args.has("clip") || !args.has("lm"))
        return report("bundle create", "--clip and --lm are required", 2, kHelp);
    NewBundle spec;
    spec.dir = args.positional()[0];
    spec.name = args.get("name");
    spec.clip = args.get("clip");
    spec.lm = args.get("lm");
    spec.clipTokenizer = args.get("clip-tokenizer");
    spec.lmTokenizer = args.get("lm-tokenizer");
    spec.modelsDir = args.get("models-dir");
    spec.prefixLength = args.integer("prefix-length", spec.prefixLength, 1, kMaxPrefixLength);
    spec.seed = static_cast<uint64_t>(args.integer("seed", int64_t(spec.seed), 0));
    if (!args.problem().empty()) return report("bundle create", args.problem(), 2);
    if (args.has("style")) spec.styles = args.all("style");
    auto made = createBundle(spec);
    if (!made) return report("bundle create", made.error(), 1);
    std::printf("created %s (mapper %s, prefix %lld)\n", made->dir.c_str(),
                made->mapperPath.c_str(), static_cast<long long>(made->prefixLength));
    return 0;
}

} // namespace esper::cli
