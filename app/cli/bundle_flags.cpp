#include "bundle_flags.h"

#include <cstdio>

#include "bundle/model_registry.h"
#include "default_bundle.h"

namespace esper::cli {

const char* const kBundleFlagsHelp =
    "  --bundle DIR            the ESPER bundle (default: $ESPER_BUNDLE, else the demo bundle)\n"
    "  --models-dir DIR        where model ids in bundles resolve (default: $ESPER_MODELS_DIR or\n"
    "                          ~/.local/share/esper-studio/models)\n"
    "  --device cpu|cuda[:N]   --dtype fp32|fp16|bf16|int8 (on the CPU, fp16, bf16 and int8\n"
    "                          keep the weights compressed and compute the rest in fp32:\n"
    "                          int8 is 2-3x faster; CLIP then runs in bf16 where the CPU has\n"
    "                          AMX. Default: the bundle's cpu_weights on the CPU, else\n"
    "                          fp32)\n";

std::vector<OptionSpec> bundleFlagSpecs() {
    return {{"bundle"}, {"models-dir"}, {"device"}, {"dtype"}};
}

std::unique_ptr<Captioner> loadBundleFromFlags(const char* verb, const Args& args, int& exitCode,
                                               const std::string& bundleDir,
                                               const WorldOptions* world) {
    const std::string dir = !bundleDir.empty() ? bundleDir : args.get("bundle", defaultBundleDir());
    if (dir.empty()) {
        exitCode = report(verb,
                          "no bundle: pass --bundle DIR (a folder with esper.json) or set "
                          "ESPER_BUNDLE",
                          2);
        return nullptr;
    }
    const std::string device = args.get("device", "cpu");
    auto c =
        Captioner::loadBundle(dir, args.get("models-dir"),
                              world ? workerDevice(device, *world) : device, args.get("dtype"));
    if (!c) {
        exitCode = report(verb, c.error(), 2);
        return nullptr;
    }
    // Never silently: a precision the bundle chose is said.
    if (!args.has("dtype") && c.value()->precision() != "fp32")
        std::fprintf(stderr, "%s: %s, as the bundle asks (--dtype fp32 for full precision)\n", verb,
                     c.value()->computeDescription().c_str());
    return std::move(c.value());
}

} // namespace esper::cli
