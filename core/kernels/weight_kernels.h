// Matrix products for CPU inference, y = x · Wᵀ + b, in two kinds. For few rows (decoding), W
// [n, k] is stored as int8 with one fp32 scale per group of weights, or as fp16, turned back
// into fp32 inside the kernel a few at a time and summed in fp32: decoding one token reads every
// weight once, so a quarter (int8) or half (fp16) of the bytes is what makes it faster. For many
// rows (CLIP's), W stays fp32 in wide panels that keep the arithmetic units busy. Written for
// AVX2 and AVX-512, chosen at run time by what the CPU has, with a portable version;
// $ESPER_CPU_KERNELS (generic, avx2, avx512) picks one by hand, so every path can be tested on
// any machine that has it. No LibTorch here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
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

// A weight matrix W [n, k] as the kernels read it, made once when a model loads. Channels go in
// panels of kPanel, and each panel's weights in chunks of kChunk along k: chunk c holds channel
// 0's kChunk weights, then channel 1's, and so on. Decoding one token multiplies one row of x by
// every weight once, so the speed is the memory's: a product over one panel then reads one
// contiguous stream, which the memory system fetches ahead far better than kPanel rows k apart.
// k is padded to whole chunks and n to whole panels, with zeros.
constexpr int64_t kPanel = 8, kChunk = 16;
static_assert(kGroup % kChunk == 0, "a chunk lies in one scale group");

template <class W> struct PanelWeights {
    int64_t n = 0, k = 0;
    std::vector<W> w;         // the panels
    std::vector<float> scale; // int8 only: panel by panel, group by group, kPanel channels
    // The weight W[j, p] that the kernels multiply by (an int8 weight times its scale).
    float at(int64_t j, int64_t p) const;
    int64_t bytes() const { return int64_t(w.size() * sizeof(W) + scale.size() * sizeof(float)); }
};
using Int8Weights = PanelWeights<int8_t>;
using HalfWeights = PanelWeights<uint16_t>;

// W [n, k] in fp32, quantised (quantizeInt8) or rounded (toHalf), in panels.
Int8Weights packInt8(const float* w, int64_t n, int64_t k);
HalfWeights packHalf(const float* w, int64_t n, int64_t k);

// y[i, j] = Σ_p x[i, p] · W[j, p] (+ bias[j]) for rows i < m and every channel j of w: x rows
// are w.k apart, y rows ldy apart; bias may be null. Threads: the caller's own, plus the pool's
// helpers (setKernelThreads) over slices of whole panels.
void gemmInt8(const float* x, int64_t m, const Int8Weights& w, const float* bias, float* y,
              int64_t ldy, Isa isa = activeIsa());
void gemmHalf(const float* x, int64_t m, const HalfWeights& w, const float* bias, float* y,
              int64_t ldy, Isa isa = activeIsa());

// A weight matrix W [n, k] in fp32 for products over many rows of x at once (CLIP's 50 image and
// 77 text rows): there the arithmetic, not the reading of weights, sets the speed, and a block
// of rows keeps many channels' sums in registers while x is broadcast one element at a time.
// Channels go in panels of kWide, k-major: panel q holds W[q·kWide + c, p] at p·kWide + c, so
// one step along k reads kWide contiguous weights. n is padded to whole panels, with zeros.
constexpr int64_t kWide = 32;
constexpr int64_t wideIndex(int64_t j, int64_t p, int64_t k) {
    return (j / kWide * k + p) * kWide + j % kWide;
}

template <class T> struct CacheAligned { // an allocator on cache-line (and vector) boundaries
    using value_type = T;
    static constexpr std::align_val_t kAlign{64};
    CacheAligned() = default;
    template <class U> CacheAligned(const CacheAligned<U>&) {}
    T* allocate(size_t count) { return static_cast<T*>(::operator new(count * sizeof(T), kAlign)); }
    void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }
    template <class U> bool operator==(const CacheAligned<U>&) const { return true; }
};

struct WideWeights {
    int64_t n = 0, k = 0;
    std::vector<float, CacheAligned<float>> w;
    float at(int64_t j, int64_t p) const { return w[size_t(wideIndex(j, p, k))]; }
    int64_t bytes() const { return int64_t(w.size() * sizeof(float)); }
};
WideWeights packWide(const float* w, int64_t n, int64_t k);
// y[i, j] = Σ_p x[i, p] · W[j, p] (+ bias[j]), as gemmInt8 says; made for m of a dozen rows or
// more (fewer rows read each weight for too few of them: gemmHalf's layout serves those).
void gemmWide(const float* x, int64_t m, const WideWeights& w, const float* bias, float* y,
              int64_t ldy, Isa isa = activeIsa());

// Whether LibTorch's oneDNN products in bf16 (summed in fp32) run faster than its fp32 ones
// here: on a CPU with AMX-BF16 tiles that the OS has enabled (CLIP's image: 46 against 75 ms;
// the wide panels above have not been measured on such a CPU). With AVX512-BF16 alone they run
// slower (138 against 82 ms), so that does not count.
// $ESPER_CPU_BF16=0 or 1 overrides.
bool fastBf16Products();

// How many threads the kernels split a product over (the caller's included); default: the
// machine's cores ($ESPER_KERNEL_THREADS overrides).
void setKernelThreads(int threads);
int kernelThreads();

} // namespace esper::kernels
