// Matrix products with compressed weights for CPU inference: y = x · Wᵀ + b where W [n, k] is
// stored as int8 with one fp32 scale per output channel, or as fp16. The weights are turned back
// into fp32 inside the kernel, a few at a time, and everything is summed in fp32: decoding one
// token reads every weight once, so a quarter (int8) or half (fp16) of the bytes is what makes
// it faster. Written for AVX2 and AVX-512, chosen at run time by what the CPU has, with a
// portable version; $ESPER_CPU_KERNELS (generic, avx2, avx512) picks one by hand, so every path
// can be tested on any machine that has it. No LibTorch here.
#pragma once

#include <cstdint>
#include <vector>

namespace esper::kernels {

enum class Isa { Generic, Avx2, Avx512 };
const char* isaName(Isa isa);
// The paths this build and this CPU can run, the fastest last.
std::vector<Isa> availableIsas();
// $ESPER_CPU_KERNELS when set (and available), else the fastest available.
Isa activeIsa();

// Symmetric int8 in groups of kGroup weights along k: each channel's group g has its own
// scale[j · groupsOf(k) + g] = max |W[j, group]| / 127, and q = round(W / scale). Groups keep
// one large weight from coarsening a whole row.
constexpr int64_t kGroup = 32;
constexpr int64_t groupsOf(int64_t k) {
    return (k + kGroup - 1) / kGroup;
}
void quantizeInt8(const float* w, int64_t n, int64_t k, int8_t* q, float* scale);
// IEEE half, rounded to nearest even.
void toHalf(const float* w, int64_t count, uint16_t* out);
float fromHalf(uint16_t h);

// y[i, j] = Σ_k x[i, k] · W[j, k] (+ bias[j]) for rows i < m, channels j < n (int8: W is q
// times its group's scale, n · groupsOf(k) scales). x rows are k
// apart, y rows ldy apart; bias may be null. Threads: the caller's own, plus the pool's
// helpers (setKernelThreads) over slices of the channels.
void gemmInt8(const float* x, int64_t m, int64_t k, const int8_t* w, const float* scale,
              const float* bias, int64_t n, float* y, int64_t ldy, Isa isa = activeIsa());
void gemmHalf(const float* x, int64_t m, int64_t k, const uint16_t* w, const float* bias, int64_t n,
              float* y, int64_t ldy, Isa isa = activeIsa());

// Whether LibTorch's oneDNN products in bf16 (summed in fp32) run faster than fp32 ones here:
// on a CPU with AMX-BF16 tiles that the OS has enabled (CLIP's image: 46 against 75 ms). With
// AVX512-BF16 alone they run slower (138 against 82 ms), so that does not count.
// $ESPER_CPU_BF16=0 or 1 overrides.
bool fastBf16Products();

// How many threads the kernels split a product over (the caller's included); default: the
// machine's cores ($ESPER_KERNEL_THREADS overrides).
void setKernelThreads(int threads);
int kernelThreads();

} // namespace esper::kernels
