#include "kernels/weight_kernels.h"

#include "kernels/attention.inl"
#include "kernels/simd_gemm.inl"
#include "kernels/vector_math.inl"
#include "kernels/weight_kernels_isa.h"
#include "kernels/wide_gemm.inl"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#if defined(ESPER_KERNELS_X86)
#include <cpuid.h>
#endif

namespace esper::kernels {
namespace {

// The portable path: the same blocks over plain arrays, which the compiler vectorises as far as
// the build's baseline allows.
struct Portable {
    struct Reg {
        float v[8];
    };
    static constexpr int kLanes = 8;
    static constexpr int kRows = 4, kChannelsForRows = 2, kChannelsFor1Row = 4, kWideRows = 4;
    static Reg zero() { return Reg{}; }
    static Reg broadcast(float v) {
        Reg r;
        for (float& x : r.v)
            x = v;
        return r;
    }
    static Reg mul(const Reg& a, const Reg& b) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = a.v[i] * b.v[i];
        return r;
    }
    static Reg add(Reg a, const Reg& b) {
        for (int i = 0; i < 8; ++i)
            a.v[i] += b.v[i];
        return a;
    }
    static void store(float* p, const Reg& r) { std::memcpy(p, r.v, sizeof r.v); }
    static Reg load(const float* p) {
        Reg r;
        std::memcpy(r.v, p, sizeof r.v);
        return r;
    }
    static Reg loadWeights(const int8_t* p) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = float(p[i]);
        return r;
    }
    static Reg loadWeights(const uint16_t* p) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = fromHalf(p[i]);
        return r;
    }
    static float weight(int8_t q) { return float(q); }
    static float weight(uint16_t h) { return fromHalf(h); }
    static Reg fma(const Reg& a, const Reg& b, Reg c) {
        for (int i = 0; i < 8; ++i)
            c.v[i] += a.v[i] * b.v[i];
        return c;
    }
    static float sum(const Reg& r) {
        float s = 0;
        for (float x : r.v)
            s += x;
        return s;
    }
};

// A few threads kept for the kernels: each product is cut into slices of channels, the caller
// computing the first. Products too small to be worth waking anyone run on the caller alone,
// and so does a product asked for while another holds the pool.
// A decode step asks for a product every few dozen microseconds, and waking a sleeping thread
// costs more than that: so the helpers, and the caller waiting for them, spin for up to
// kSpinFor before they sleep. A 768 x 768 int8 product with a little work between products,
// on 2 cores: 95 us with helpers that sleep, 39 us on one thread, 26 us with helpers that
// spin; GPT-2's int8 decode step at batch 1: 10-11 ms to 6-7.5 ms.
class Pool {
public:
    static Pool& instance() {
        static Pool pool;
        return pool;
    }
    void setThreads(int threads) {
        std::lock_guard busy(run_);
        stop();
        threads_ = std::max(1, threads);
        for (int w = 1; w < threads_; ++w)
            workers_.emplace_back([this, w] { work(w); });
    }
    int threads() const { return threads_; }
    // Slices of [0, n) that start and end on multiples of `grain`.
    void run(int64_t n, int64_t grain, int64_t cost,
             const std::function<void(int64_t, int64_t)>& slice) {
        std::unique_lock busy(run_, std::try_to_lock);
        const int parts = busy.owns_lock() && cost >= kWorthSplitting ? threads_ : 1;
        if (parts == 1) return slice(0, n);
        {
            std::lock_guard lock(mutex_);
            task_ = &slice;
            n_ = n;
            grain_ = grain;
            parts_ = parts;
            pending_.store(parts - 1, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        slice(0, bound(1, parts));
        spinWhile([&] { return pending_.load(std::memory_order_acquire) != 0; });
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
        task_ = nullptr;
    }
    ~Pool() { stop(); }

private:
    static constexpr int64_t kWorthSplitting = 1 << 17; // multiply-adds
    static constexpr std::chrono::microseconds kSpinFor{200};
    Pool() {
        int threads = int(std::max(1u, std::thread::hardware_concurrency()));
        if (const char* env = std::getenv("ESPER_KERNEL_THREADS"); env && std::atoi(env) > 0)
            threads = std::atoi(env);
        setThreads(threads);
    }
    // Until `waiting` turns false or kSpinFor has passed.
    template <class Waiting> static void spinWhile(Waiting waiting) {
        const auto until = std::chrono::steady_clock::now() + kSpinFor;
        while (waiting()) {
            for (int i = 0; i < 32; ++i) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#else
                std::this_thread::yield();
#endif
            }
            if (std::chrono::steady_clock::now() >= until) return;
        }
    }
    int64_t bound(int part, int parts) const {
        if (part >= parts) return n_;
        return std::min(n_, (n_ * part / parts + grain_ - 1) / grain_ * grain_);
    }
    void work(int w) {
        // From 0, not the current generation: a product asked for before this thread first
        // runs is still its to help with (setThreads holds the pool, so none is half done).
        uint64_t seen = 0;
        for (;;) {
            spinWhile([&] {
                return generation_.load(std::memory_order_acquire) == seen &&
                       !quit_.load(std::memory_order_relaxed);
            });
            const std::function<void(int64_t, int64_t)>* task;
            int parts;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
                if (quit_) return;
                seen = generation_;
                task = task_;
                parts = parts_;
                if (!task || w >= parts) continue;
            }
            (*task)(bound(w, parts), bound(w + 1, parts));
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard lock(mutex_); // the caller may be between its check and its wait
                done_.notify_one();
            }
        }
    }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            quit_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_)
            t.join();
        workers_.clear();
        quit_ = false;
    }

    std::mutex run_, mutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    const std::function<void(int64_t, int64_t)>* task_ = nullptr;
    int64_t n_ = 0, grain_ = 1;
    int parts_ = 1;
    std::atomic<int> pending_{0};
    std::atomic<uint64_t> generation_{0};
    int threads_ = 1;
    std::atomic<bool> quit_{false};
};

} // namespace

const char* isaName(Isa isa) {
    static const char* const names[] = {"generic", "avx2", "avx512"}; // in Isa's order
    return names[static_cast<int>(isa)];
}

namespace {

// Bit `bit` of register `reg` (0 eax .. 3 edx) of CPUID leaf/subleaf; false off x86. Read
// directly: compilers differ in the feature names __builtin_cpu_supports knows (clang 14 has no
// "f16c").
bool cpuidBit(unsigned leaf, unsigned subleaf, int reg, int bit) {
#if defined(ESPER_KERNELS_X86)
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3])) return false;
    return (r[reg] >> bit) & 1;
#else
    (void)leaf, (void)subleaf, (void)reg, (void)bit;
    return false;
#endif
}

// Whether the OS saves the AMX tile state (XCR0 bits 17 and 18), without which the tiles
// cannot be used whatever CPUID says.
bool amxEnabled() {
#if defined(ESPER_KERNELS_X86)
    if (!cpuidBit(1, 0, 2, 27)) return false; // OSXSAVE: xgetbv may be used
    unsigned lo = 0, hi = 0;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return ((lo >> 17) & 3) == 3;
#else
    return false;
#endif
}

} // namespace

std::vector<Isa> availableIsas() {
    std::vector<Isa> out{Isa::Generic};
#if defined(ESPER_KERNELS_X86)
    __builtin_cpu_init();
    // Both paths also turn fp16 into fp32 with F16C and add with FMA.
    const bool avx2 =
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpuidBit(1, 0, 2, 29);
    if (avx2) out.push_back(Isa::Avx2);
    if (avx2 && __builtin_cpu_supports("avx512f")) out.push_back(Isa::Avx512);
#endif
    return out;
}

bool fastBf16Products() {
    static const bool fast = [] {
        if (const char* env = std::getenv("ESPER_CPU_BF16"); env && *env)
            return std::string(env) != "0";
        return amxEnabled() && cpuidBit(7, 0, 3, 22); // AMX-BF16
    }();
    return fast;
}

Isa activeIsa() {
    static const Isa chosen = [] {
        const auto all = availableIsas();
        if (const char* env = std::getenv("ESPER_CPU_KERNELS"); env && *env)
            for (Isa isa : all)
                if (std::string(env) == isaName(isa)) return isa;
        return all.back();
    }();
    return chosen;
}

void quantizeInt8(const float* w, int64_t n, int64_t k, int8_t* q, float* scale) {
    const int64_t groups = groupsOf(k);
    for (int64_t j = 0; j < n; ++j)
        for (int64_t g = 0; g < groups; ++g) {
            const int64_t from = j * k + g * kGroup, to = j * k + std::min(k, (g + 1) * kGroup);
            float most = 0;
            for (int64_t p = from; p < to; ++p)
                most = std::max(most, std::abs(w[p]));
            const float s = most > 0 ? most / 127.0f : 1.0f;
            scale[j * groups + g] = s;
            for (int64_t p = from; p < to; ++p)
                q[p] = int8_t(std::clamp(std::nearbyint(w[p] / s), -127.0f, 127.0f));
        }
}

void toHalf(const float* w, int64_t count, uint16_t* out) {
    for (int64_t i = 0; i < count; ++i) {
        uint32_t f;
        std::memcpy(&f, &w[i], 4);
        const uint32_t sign = (f >> 16) & 0x8000u;
        const uint32_t bits = f & 0x7fffffffu;
        uint16_t h;
        if (bits >= 0x7f800000u) { // inf or nan
            h = uint16_t(sign | 0x7c00u | (bits > 0x7f800000u ? 0x200u : 0));
        } else if (bits >= 0x477ff000u) { // rounds to more than the largest half: inf
            h = uint16_t(sign | 0x7c00u);
        } else if (bits < 0x38800000u) { // a subnormal half (or zero)
            float v;
            std::memcpy(&v, &bits, 4);
            h = uint16_t(sign | uint32_t(std::nearbyint(v * 16777216.0f))); // v / 2^-24
        } else {
            const uint32_t mantissa = bits & 0x1fffu, kept = bits >> 13;
            uint32_t r = kept - (112u << 10); // rebias the exponent (127 - 15)
            if (mantissa > 0x1000u || (mantissa == 0x1000u && (kept & 1u))) ++r;
            h = uint16_t(sign | r);
        }
        out[i] = h;
    }
}

float fromHalf(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu,
                   mantissa = h & 0x3ffu;
    uint32_t f;
    if (exponent == 0) {
        float v = std::ldexp(float(mantissa), -24);
        std::memcpy(&f, &v, 4);
        f |= sign;
    } else if (exponent == 31) {
        f = sign | 0x7f800000u | (mantissa << 13);
    } else {
        f = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    float out;
    std::memcpy(&out, &f, 4);
    return out;
}

IsaKernels kernelsFor(Isa isa) {
#if defined(ESPER_KERNELS_X86)
    if (isa == Isa::Avx512) return kAvx512Kernels;
    if (isa == Isa::Avx2) return kAvx2Kernels;
#else
    (void)isa;
#endif
    return {&simd::gemm<Portable, int8_t>, &simd::gemm<Portable, uint16_t>, &wide::gemm<Portable>,
            &vmath::quickGelu<4>, &vmath::attentionRows<4>};
}

namespace {

// The product split over the pool by slices of whole panels.
template <class W>
void splitChannels(Kernel<W> kernel, const float* x, int64_t m, const PanelWeights<W>& w,
                   const float* bias, float* y, int64_t ldy) {
    const bool scaled = !w.scale.empty();
    Pool::instance().run(w.n, kPanel, m * w.n * w.k, [&](int64_t from, int64_t to) {
        if (from < to)
            kernel(x, m, w.k, w.w.data() + simd::weightIndex(from, 0, w.k),
                   scaled ? w.scale.data() + simd::scaleIndex(from, 0, w.k) : nullptr,
                   bias ? bias + from : nullptr, to - from, y + from, ldy);
    });
}

// Row-major W [n, k] (and its row-major group scales, int8) into panels.
template <class W>
PanelWeights<W> toPanels(const W* rows, const float* rowScales, int64_t n, int64_t k) {
    PanelWeights<W> out;
    out.n = n;
    out.k = k;
    const int64_t panels = (n + kPanel - 1) / kPanel, groups = groupsOf(k);
    out.w.assign(size_t(panels * simd::panelSize(k)), W(0));
    for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p)
            out.w[size_t(simd::weightIndex(j, p, k))] = rows[j * k + p];
    if (rowScales) {
        out.scale.assign(size_t(panels * simd::panelScales(k)), 1.0f);
        for (int64_t j = 0; j < n; ++j)
            for (int64_t g = 0; g < groups; ++g)
                out.scale[size_t(simd::scaleIndex(j, g, k))] = rowScales[j * groups + g];
    }
    return out;
}

} // namespace

template <class W> float PanelWeights<W>::at(int64_t j, int64_t p) const {
    const W v = w[size_t(simd::weightIndex(j, p, k))];
    if constexpr (std::is_same_v<W, int8_t>)
        return float(v) * scale[size_t(simd::scaleIndex(j, p / kGroup, k))];
    else
        return fromHalf(v);
}
template struct PanelWeights<int8_t>;
template struct PanelWeights<uint16_t>;

Int8Weights packInt8(const float* w, int64_t n, int64_t k) {
    std::vector<int8_t> q(size_t(n * k));
    std::vector<float> scale(size_t(n * groupsOf(k)));
    quantizeInt8(w, n, k, q.data(), scale.data());
    return toPanels(q.data(), scale.data(), n, k);
}

HalfWeights packHalf(const float* w, int64_t n, int64_t k) {
    std::vector<uint16_t> h(size_t(n * k));
    toHalf(w, n * k, h.data());
    return toPanels<uint16_t>(h.data(), nullptr, n, k);
}

void gemmInt8(const float* x, int64_t m, const Int8Weights& w, const float* bias, float* y,
              int64_t ldy, Isa isa) {
    splitChannels(kernelsFor(isa).int8, x, m, w, bias, y, ldy);
}

void gemmHalf(const float* x, int64_t m, const HalfWeights& w, const float* bias, float* y,
              int64_t ldy, Isa isa) {
    splitChannels(kernelsFor(isa).half, x, m, w, bias, y, ldy);
}

WideWeights packWide(const float* w, int64_t n, int64_t k) {
    WideWeights out;
    out.n = n;
    out.k = k;
    out.w.assign(size_t((n + kWide - 1) / kWide * kWide * k), 0.0f);
    for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p)
            out.w[size_t(wideIndex(j, p, k))] = w[j * k + p];
    return out;
}

void gemmWide(const float* x, int64_t m, const WideWeights& w, const float* bias, float* y,
              int64_t ldy, Isa isa) {
    const Kernel<float> kernel = kernelsFor(isa).wide;
    Pool::instance().run(w.n, kWide, m * w.n * w.k, [&](int64_t from, int64_t to) {
        if (from < to)
            kernel(x, m, w.k, w.w.data() + wideIndex(from, 0, w.k), nullptr,
                   bias ? bias + from : nullptr, to - from, y + from, ldy);
    });
}

void parallelFor(int64_t n, int64_t grain, int64_t cost,
                 const std::function<void(int64_t, int64_t)>& slice) {
    Pool::instance().run(n, grain, cost, slice);
}

void setKernelThreads(int threads) {
    Pool::instance().setThreads(threads);
}

int kernelThreads() {
    return Pool::instance().threads();
}

} // namespace esper::kernels
