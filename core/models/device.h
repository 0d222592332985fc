// Device and precision choices, parsed from the user's words ("cpu", "cuda:1", "bf16").
#pragma once

#include "util/result.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <string>

namespace esper {

struct ComputeOptions {
    c10::Device device{c10::kCPU};
    c10::ScalarType dtype = c10::kFloat;
};

Result<c10::Device> parseDevice(const std::string& text);
Result<c10::ScalarType> parseDType(const std::string& text);
Result<ComputeOptions> parseComputeOptions(const std::string& device, const std::string& dtype);
std::string describe(const ComputeOptions& options);
// Torch's thread settings for this machine (see build-notes: one intra-op thread, BLAS threads)
// and the allocator's, so that freed tensors are reused rather than handed back to the kernel.
void configureCpuRuntime();
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
