// The kernels' one body, instantiated per instruction set by a traits type V:
//   V::Reg, V::kLanes, zero(), load(const float*), broadcast(float), loadWeights(const int8_t*),
//   loadWeights(const uint16_t*), weight(int8_t | uint16_t), mul(a, b), fma(a, b, c) = a·b + c,
//   sum(Reg).
// A block of MR rows by NR channels keeps MR·NR accumulators in registers, so one pass over a
// weight row serves MR rows of x; the last k % kLanes elements are summed one by one. int8
// weights are scaled as they are loaded, by their group's scale (kGroup along k, a multiple of
// every kLanes, so a vector never straddles two groups).
#pragma once

#include "kernels/weight_kernels.h"

#include <cstdint>
#include <type_traits>

namespace esper::kernels::simd {

// `scale`: NR channels' group scales, groupsOf(k) apart (int8 only).
template <class V, class W, int MR, int NR>
inline void block(const float* x, int64_t k, const W* w, const float* scale, const float* bias,
                  float* y, int64_t ldy) {
    constexpr bool kScaled = std::is_same_v<W, int8_t>;
    static_assert(kGroup % V::kLanes == 0);
    const int64_t groups = groupsOf(k);
    typename V::Reg acc[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j)
            acc[i][j] = V::zero();
    int64_t p = 0;
    for (; p + V::kLanes <= k; p += V::kLanes) {
        typename V::Reg wv[NR];
        for (int j = 0; j < NR; ++j) {
            wv[j] = V::loadWeights(w + j * k + p);
            if constexpr (kScaled)
                wv[j] = V::mul(wv[j], V::broadcast(scale[j * groups + p / kGroup]));
        }
        for (int i = 0; i < MR; ++i) {
            const typename V::Reg xv = V::load(x + i * k + p);
            for (int j = 0; j < NR; ++j)
                acc[i][j] = V::fma(xv, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            float s = V::sum(acc[i][j]);
            for (int64_t q = p; q < k; ++q) {
                float wq = V::weight(w[j * k + q]);
                if constexpr (kScaled) wq *= scale[j * groups + q / kGroup];
                s += x[i * k + q] * wq;
            }
            y[i * ldy + j] = bias ? s + bias[j] : s;
        }
}

// Channels in blocks of NR (one row: NR1, so one row alone still keeps NR1 sums going), then
// one by one.
template <class V, class W, int R, int NR>
void channels(const float* x, int64_t k, const W* w, const float* scale, const float* bias,
              int64_t n, float* y, int64_t ldy) {
    int64_t j = 0;
    for (; j + NR <= n; j += NR)
        block<V, W, R, NR>(x, k, w + j * k, scale ? scale + j * groupsOf(k) : nullptr,
                           bias ? bias + j : nullptr, y + j, ldy);
    for (; j < n; ++j)
        block<V, W, R, 1>(x, k, w + j * k, scale ? scale + j * groupsOf(k) : nullptr,
                          bias ? bias + j : nullptr, y + j, ldy);
}

// The last rows (fewer than a block) as one block of R rows: R chosen at run time among
// 1 .. V::kRows - 1.
template <class V, class W, int R>
void restOfRows(int64_t rows, const float* x, int64_t k, const W* w, const float* scale,
                const float* bias, int64_t n, float* y, int64_t ldy) {
    if constexpr (R >= 1) {
        if (rows == R) {
            constexpr int NR = R == 1 ? V::kChannelsFor1Row : V::kChannelsForRows;
            return channels<V, W, R, NR>(x, k, w, scale, bias, n, y, ldy);
        }
        restOfRows<V, W, R - 1>(rows, x, k, w, scale, bias, n, y, ldy);
    }
}

// Rows in blocks of V::kRows (each weight row read once per block), the rest as one block.
template <class V, class W>
void gemm(const float* x, int64_t m, int64_t k, const W* w, const float* scale, const float* bias,
          int64_t n, float* y, int64_t ldy) {
    constexpr int MR = V::kRows;
    int64_t i = 0;
    for (; i + MR <= m; i += MR)
        channels<V, W, MR, V::kChannelsForRows>(x + i * k, k, w, scale, bias, n, y + i * ldy, ldy);
    restOfRows<V, W, MR - 1>(m - i, x + i * k, k, w, scale, bias, n, y + i * ldy, ldy);
}

} // namespace esper::kernels::simd
