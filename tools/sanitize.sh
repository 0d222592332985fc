#!/usr/bin/env bash
# Builds the engine, its CLI and its tests (ESPER_ENGINE_ONLY: no Qt widgets, no media; the
# media parsers are fuzzed under the same sanitizers by tools/fuzz.sh) with AddressSanitizer
# and UndefinedBehaviorSanitizer (GCC) in build-asan/, and runs the unit tests there. Not part
# of CI: the instrumented build takes a quarter of an hour on two cores.
#   tools/sanitize.sh [ctest arguments]    (default: -L unit -LE "slow|gui")
# sentencepiece cannot load under AddressSanitizer (RTLD_DEEPBIND); the two tests that need it
# skip with a message, and every other test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESPER_SANITIZE=ON \
    -DESPER_ENGINE_ONLY=ON >/dev/null
fi
cmake --build build-asan
cd build-asan
# LibTorch and Qt are not instrumented; leaks at exit in them are not ours to report.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_init_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ $# -eq 0 ]; then set -- -L unit -LE "slow|gui"; fi
ctest --output-on-failure --timeout 1800 "$@"
