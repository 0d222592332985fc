#include "models/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <thread>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace esper {

namespace {

bool hasOpenBlas() {
    return dlsym(RTLD_DEFAULT, "openblas_set_num_threads") != nullptr;
}

int chosenTorchThreads(int asked) {
    if (const char* env = std::getenv("ESPER_TORCH_THREADS"); env && *env) {
        const int n = std::atoi(env);
        if (n > 0) return n;
    }
    if (asked > 0) return asked;
    // OpenBLAS threads each large GEMM over every core; torch's own pool beside it
    // oversubscribes them (measured on 2 cores: decoding 4-5x slower with two torch threads).
    if (hasOpenBlas()) return 1;
    return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace

int configureRuntime(const RuntimeOptions& options) {
    static std::once_flag once;
    static int threads = 1;
    std::call_once(once, [&] {
        threads = chosenTorchThreads(options.torchThreads);
        at::set_num_threads(threads);
        // cuDNN convolutions (CLIP's patch embedding) default to TF32 on Ampere and later, which
        // keeps 10 mantissa bits: fp32 must mean fp32, as the reference computes it. fp16 and
        // bf16 are the fast choices.
        at::globalContext().setAllowTF32CuDNN(false);
        at::globalContext().setAllowTF32CuBLAS(false);
#if defined(__GLIBC__)
        if (options.keepFreedMemory) {
            // A training step frees and allocates the same few-MB activations hundreds of
            // times; glibc hands such blocks back to the kernel and maps them again zero-filled,
            // page by page. Keeping them made a CLIP step 10 % cheaper with bit-identical
            // results, at the price of holding the peak. 32 MiB is the largest mmap threshold.
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
#endif
    });
    return threads;
}

int setBlasThreads(int threads) {
    using Get = int (*)();
    using Set = void (*)(int);
    const auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    const auto set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (!get || !set) return 0;
    const int previous = get();
    set(threads);
    return previous;
}

} // namespace esper
