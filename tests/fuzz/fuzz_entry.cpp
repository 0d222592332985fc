// libFuzzer's entry points: one binary for every target, the target named by
// $ESPER_FUZZ_TARGET (tools/fuzz.sh sets it; "list" prints them).
#include "fuzz_targets.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {
const esper::fuzz::FuzzTarget* target = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* name = std::getenv("ESPER_FUZZ_TARGET");
    if (name && std::string_view(name) == "list") { // for tools/fuzz.sh
        for (const auto& t : esper::fuzz::fuzzTargets())
            std::printf("%s\n", t.name);
        std::exit(0);
    }
    target = name ? esper::fuzz::findFuzzTarget(name) : nullptr;
    if (!target) {
        std::fprintf(stderr, "set ESPER_FUZZ_TARGET to one of:");
        for (const auto& t : esper::fuzz::fuzzTargets())
            std::fprintf(stderr, " %s", t.name);
        std::fprintf(stderr, "\n");
        std::exit(2);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    target->run({reinterpret_cast<const char*>(data), size});
    return 0;
}
