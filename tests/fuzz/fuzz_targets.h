// The parsers that read what users hand the program, each as a function of raw bytes: what
// libFuzzer drives (tools/fuzz.sh) and what CI replays from the kept corpora
// (tests/fuzz/corpus/NAME/, test_fuzz_replay). A target must never crash, hang or allocate
// without bound on any input; returning an error is the expected outcome for most.
#pragma once

#include <string_view>
#include <vector>

namespace esper::fuzz {

struct FuzzTarget {
    const char* name;
    void (*run)(std::string_view bytes);
};

const std::vector<FuzzTarget>& fuzzTargets();
const FuzzTarget* findFuzzTarget(std::string_view name);

} // namespace esper::fuzz
