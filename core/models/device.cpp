#include "models/device.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <mutex>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <torch/cuda.h>

namespace esper {

Result<c10::Device> parseDevice(const std::string& text) {
    if (text.empty() || text == "cpu") return c10::Device(c10::kCPU);
    if (text.rfind("cuda", 0) == 0) {
        int index = 0;
        if (text.size() > 4) {
            if (text[4] != ':' || text.size() == 5) return fail("bad device '" + text + "'");
            try {
                index = std::stoi(text.substr(5));
            } catch (...) {
                return fail("bad device '" + text + "'");
            }
        }
        if (!at::hasCUDA())
            return fail("device '" + text +
                        "' asked for, but this build has no CUDA support "
                        "or no CUDA device is visible");
        const auto count = static_cast<int>(torch::cuda::device_count());
        if (index < 0 || index >= count)
            return fail("device '" + text + "' asked for, but only " + std::to_string(count) +
                        " CUDA device(s) are visible (cuda:0 to cuda:" + std::to_string(count - 1) +
                        ")");
        return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    return fail("unknown device '" + text + "' (use cpu, cuda or cuda:N)");
}

Result<c10::ScalarType> parseDType(const std::string& text) {
    if (text.empty() || text == "fp32" || text == "float32") return c10::kFloat;
    if (text == "fp16" || text == "float16") return c10::kHalf;
    if (text == "bf16" || text == "bfloat16") return c10::kBFloat16;
    return fail("unknown precision '" + text + "' (use fp32, fp16 or bf16)");
}

Result<ComputeOptions> parseComputeOptions(const std::string& device, const std::string& dtype) {
    auto d = parseDevice(device);
    if (!d) return fail(d.error());
    auto t = parseDType(dtype);
    if (!t) return fail(t.error());
    if (d->is_cpu() && t.value() == c10::kHalf)
        return fail("fp16 is for CUDA devices; on the CPU use fp32 or bf16");
    if (d->is_cuda()) {
        // cuDNN convolutions (CLIP's patch embedding) default to TF32 on Ampere and later, which
        // keeps 10 mantissa bits: fp32 must mean fp32, as the reference computes it. fp16 and
        // bf16 are the fast choices.
        at::globalContext().setAllowTF32CuDNN(false);
        at::globalContext().setAllowTF32CuBLAS(false);
    }
    return ComputeOptions{d.value(), t.value()};
}

std::string describe(const ComputeOptions& options) {
    return options.device.str() + "/" + std::string(c10::toString(options.dtype));
}

void configureCpuRuntime() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Measured on 2 cores: one intra-op thread while OpenBLAS threads the GEMMs; two torch
        // threads oversubscribe and slow decoding 4-5x.
        at::set_num_threads(1);
#if defined(__GLIBC__)
        // A training step frees and allocates the same few-MB activations hundreds of times.
        // glibc hands such blocks back to the kernel (munmap, or trimming the heap top) and maps
        // them again zero-filled, page by page: the kernel's share of a CLIP step was 7 %, most
        // of it page faults. Keeping freed blocks for reuse made the step 10 % cheaper with
        // bit-identical results, at the price of holding the peak in memory. 32 MiB is the
        // largest threshold mallopt takes.
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    });
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
