// Process-wide runtime settings: torch's intra-op threads, OpenBLAS's threads, the allocator
// and CUDA's TF32 (off: fp32 means fp32). Each executable chooses them once, at start-up (`esper`,
// `esper-studio`, the test programs); library code never changes them behind its caller's back. No
// torch types here, so a main() includes this cheaply.
#pragma once

namespace esper {

// What configureRuntime sets. Zero torch threads: chosen from the machine (one intra-op
// thread where OpenBLAS threads the GEMMs over every core, otherwise one per core);
// $ESPER_TORCH_THREADS overrides the choice.
struct RuntimeOptions {
    int torchThreads = 0;
    // Keep freed blocks for reuse instead of handing them back to the kernel (glibc only).
    bool keepFreedMemory = true;
};

// Applies `options` once per process; later calls do nothing. Returns the torch threads chosen.
int configureRuntime(const RuntimeOptions& options = {});

// Sets OpenBLAS's thread count where the BLAS is OpenBLAS (found at run time, so any BLAS links)
// and returns the previous count, or 0 where there is none to set. Two trainings side by side
// each want one BLAS thread, not two apiece on two cores.
int setBlasThreads(int threads);
// setBlasThreads for a scope: the previous count comes back however the scope ends, an error
// included, so a trainer that wants one BLAS thread per core leaves none behind.
class BlasThreadsScope {
public:
    explicit BlasThreadsScope(int threads) : previous_(setBlasThreads(threads)) {}
    ~BlasThreadsScope() {
        if (previous_ > 0) setBlasThreads(previous_);
    }
    BlasThreadsScope(const BlasThreadsScope&) = delete;
    BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;

private:
    int previous_;
};

} // namespace esper
