// Element-wise functions on fp32 arrays, written once with GCC's vector extensions and compiled
// per instruction set (kLanes 16 under AVX-512, 8 under AVX2, 4 on the portable path), so each
// gets that ISA's vector instructions from the same source.
#pragma once

#include <cstdint>
#include <cstring>

namespace esper::kernels::vmath {

template <int kLanes> struct Vec {
    typedef float F __attribute__((vector_size(4 * kLanes)));
    typedef int32_t I __attribute__((vector_size(4 * kLanes)));
};

// e^v to about 2 ulp (Cephes' expf: n = round(v / ln 2), e^r on [-ln2/2, ln2/2] by a degree-6
// polynomial, times 2^n built in the exponent bits): 0 below -87.3 (where e^v leaves the normal
// floats), inf above 88.7 (where it leaves the floats).
template <int kLanes> inline typename Vec<kLanes>::F exp(typename Vec<kLanes>::F v) {
    using F = typename Vec<kLanes>::F;
    using I = typename Vec<kLanes>::I;
    const F lo = F{} - 87.3f, hi = F{} + 88.7f;
    const I under = v < lo;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    // Round to nearest by adding 1.5 · 2^23: the sum's low mantissa bits then hold the integer.
    const F magic = F{} + 12582912.0f;
    const F n = (v * 1.44269504088896341f + magic) - magic;
    const F r = (v - n * 0.693359375f) + n * 2.12194440e-4f; // ln 2 in two parts
    F p = F{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const I bits = (__builtin_convertvector(n, I) + 127) << 23;
    return under ? F{} : p * (F)bits;
}

// v[i] ← e^(v[i] - shift) over n floats; returns their sum.
template <int kLanes> inline float expShifted(float* v, int64_t n, float shift) {
    using F = typename Vec<kLanes>::F;
    F acc{};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        F x;
        std::memcpy(&x, v + i, sizeof x);
        x = exp<kLanes>(x - shift);
        acc += x;
        std::memcpy(v + i, &x, sizeof x);
    }
    float s = 0;
    for (int l = 0; l < kLanes; ++l)
        s += acc[l];
    if (i < n) {
        F x = F{} - 1e30f; // e^(-1e30 - shift) = 0 in the padding
        std::memcpy(&x, v + i, size_t(n - i) * 4);
        x = exp<kLanes>(x - shift);
        std::memcpy(v + i, &x, size_t(n - i) * 4);
        for (int64_t l = 0; l < n - i; ++l)
            s += x[l];
    }
    return s;
}

// x ← x · σ(1.702 x) = x / (1 + e^(-1.702 x)): CLIP's QuickGELU, in place; the last n % kLanes
// through a zero-padded vector.
template <int kLanes> void quickGelu(float* x, int64_t n) {
    using F = typename Vec<kLanes>::F;
    auto one = [](F v) { return v / (1.0f + exp<kLanes>(v * -1.702f)); };
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        F v;
        std::memcpy(&v, x + i, sizeof v);
        v = one(v);
        std::memcpy(x + i, &v, sizeof v);
    }
    if (i < n) {
        F v{};
        std::memcpy(&v, x + i, size_t(n - i) * 4);
        v = one(v);
        std::memcpy(x + i, &v, size_t(n - i) * 4);
    }
}

} // namespace esper::kernels::vmath
