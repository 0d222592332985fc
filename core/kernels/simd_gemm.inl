// The kernels' one body, instantiated per instruction set by a traits type V:
//   V::Reg, V::kLanes, zero(), load(const float*), broadcast(float), loadWeights(const int8_t*),
//   loadWeights(const uint16_t*), weight(int8_t | uint16_t), mul(a, b), fma(a, b, c) = a·b + c,
//   sum(Reg).
// A block of MR rows by NR channels of one panel keeps MR·NR accumulators in registers, so one
// pass over the weights serves MR rows of x; the last k % kLanes elements are summed one by one.
// int8 weights are scaled as they are loaded, by their group's scale (kGroup along k, a multiple
// of every kLanes, so a vector never straddles two groups).
#pragma once

#include "kernels/weight_kernels.h"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <type_traits>

namespace esper::kernels::simd {

constexpr int64_t paddedK(int64_t k) {
    return (k + kChunk - 1) / kChunk * kChunk;
}
// Where weight p of a panel's channel 0 lies from the panel's start; channel j's is kChunk on.
constexpr int64_t offsetOf(int64_t p) {
    return p / kChunk * (kChunk * kPanel) + p % kChunk;
}
// One panel's weights, and its scales (int8).
constexpr int64_t panelSize(int64_t k) {
    return kPanel * paddedK(k);
}
constexpr int64_t panelScales(int64_t k) {
    return kPanel * groupsOf(k);
}
// Where W[j, p] lies in the panels, and channel j's scale for group g in theirs.
constexpr int64_t weightIndex(int64_t j, int64_t p, int64_t k) {
    return j / kPanel * panelSize(k) + j % kPanel * kChunk + offsetOf(p);
}
constexpr int64_t scaleIndex(int64_t j, int64_t g, int64_t k) {
    return j / kPanel * panelScales(k) + g * kPanel + j % kPanel;
}
// How far ahead of the weights in use each panel's stream asks for its lines: enough in flight
// that one token's pass over GPT-2's int8 weights runs at the memory's bandwidth, not its
// latency (the language-model head, 50257 x 768, on 2 cores: 3.4 ms in rows k apart with no
// prefetch, 2.1 ms in panels with it).
constexpr int64_t kLine = 64, kPrefetchAhead = 2048;

// `w`: the block's first channel, `scale` its group scales (kPanel apart, int8 only).
// `leads`: this block starts its panel, so it asks for the panel's lines ahead (the other
// blocks of the panel find them in cache).
template <class V, class W, int MR, int NR>
inline void block(const float* x, int64_t k, const W* w, const float* scale, const float* bias,
                  float* y, int64_t ldy, bool leads) {
    constexpr bool kScaled = std::is_same_v<W, int8_t>;
    constexpr int64_t kChunkBytes = kChunk * kPanel * int64_t(sizeof(W));
    static_assert(kGroup % V::kLanes == 0 && kChunk % V::kLanes == 0);
    typename V::Reg acc[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j)
            acc[i][j] = V::zero();
    int64_t p = 0;
    for (; p + V::kLanes <= k; p += V::kLanes) {
        const int64_t at = offsetOf(p);
        if (leads && p % kChunk == 0) {
            const char* ahead = reinterpret_cast<const char*>(w + at) + kPrefetchAhead;
            for (int64_t b = 0; b < kChunkBytes; b += kLine)
                __builtin_prefetch(ahead + b);
        }
        typename V::Reg wv[NR];
        for (int j = 0; j < NR; ++j) {
            wv[j] = V::loadWeights(w + j * kChunk + at);
            if constexpr (kScaled)
                wv[j] = V::mul(wv[j], V::broadcast(scale[p / kGroup * kPanel + j]));
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
                float wq = V::weight(w[j * kChunk + offsetOf(q)]);
                if constexpr (kScaled) wq *= scale[q / kGroup * kPanel + j];
                s += x[i * k + q] * wq;
            }
            y[i * ldy + j] = bias ? s + bias[j] : s;
        }
}

// A panel's last `count` channels (fewer than a block) as one block of C channels: C chosen
// at run time among 1 .. NR - 1.
template <class V, class W, int R, int C>
void restOfChannels(int64_t count, const float* x, int64_t k, const W* w, const float* scale,
                    const float* bias, float* y, int64_t ldy, bool leads) {
    if constexpr (C >= 1) {
        if (count == C) return block<V, W, R, C>(x, k, w, scale, bias, y, ldy, leads);
        restOfChannels<V, W, R, C - 1>(count, x, k, w, scale, bias, y, ldy, leads);
    }
}

// Panel by panel, each in blocks of NR channels (one row: NR1, so one row alone still keeps
// NR1 sums going), then the rest of the panel as one block.
template <class V, class W, int R, int NR>
void channels(const float* x, int64_t k, const W* w, const float* scale, const float* bias,
              int64_t n, float* y, int64_t ldy) {
    static_assert(NR <= kPanel);
    for (int64_t first = 0; first < n; first += kPanel) {
        const W* panel = w + weightIndex(first, 0, k);
        const float* scales = scale ? scale + scaleIndex(first, 0, k) : nullptr;
        const int64_t count = std::min(kPanel, n - first);
        auto at = [&](int64_t j) {
            return std::make_tuple(panel + j * kChunk, scales ? scales + j : nullptr,
                                   bias ? bias + first + j : nullptr, y + first + j);
        };
        int64_t j = 0;
        for (; j + NR <= count; j += NR) {
            const auto [wj, sj, bj, yj] = at(j);
            block<V, W, R, NR>(x, k, wj, sj, bj, yj, ldy, j == 0);
        }
        const auto [wj, sj, bj, yj] = at(j);
        restOfChannels<V, W, R, NR - 1>(count - j, x, k, wj, sj, bj, yj, ldy, j == 0);
    }
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

// Rows in blocks of V::kRows (each weight read once per block), the rest as one block.
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
