// The body of the products over many rows (WideWeights), instantiated per instruction set by the
// traits type V of simd_gemm.inl, which adds V::store(float*, Reg), V::add(a, b) and
// V::kWideRows for these.
// A block is MR rows by kVectors vectors of channels, its sums held in registers down the whole
// of k: each step loads kVectors vectors of weights and broadcasts one x per row, for MR ·
// kVectors multiply-adds, with no sum across a vector at the end. A panel wider than one block
// (kWide over kVectors · kLanes) is covered in passes. Rows go in bands small enough that a
// band's x stays in the core's L2 beside one panel while the band's blocks pass over it.
// Each channel is summed in the order of k, one multiply-add at a time, whatever the ISA.
// Only a band's first block would read a pass's weights from memory, and it alone would ask for
// them faster than the memory gives them (14 rows x 32 channels: 128 bytes every ~14 cycles):
// so while the band's blocks run over one pass, each asks for its share of the next pass's
// weights, and every block finds its own in cache. CLIP's 48 image products at batch 1 (350 MB
// of weights for 50 rows) on 2 cores: 44-50 ms without, 33-34 ms with.
#pragma once

#include "kernels/weight_kernels.h"

#include <algorithm>
#include <cstdint>

namespace esper::kernels::wide {

constexpr int kVectors = 2;
// x's share of L2 for a band of rows (fp32); a panel takes k · kWide · 4 bytes beside it.
constexpr int64_t kBandBytes = 1 << 20;

// Where a block asks for the next pass's weights: `next` (null: none), as block `share` of
// `shares`, which ask for every shares-th step of k in turn.
struct Ahead {
    const float* next;
    int64_t share, shares;
};

template <class V, int MR>
inline void block(const float* x, int64_t k, const float* w, const float* bias, float* y,
                  int64_t ldy, Ahead ahead) {
    constexpr int64_t kPass = kVectors * V::kLanes, kLineFloats = 16;
    typename V::Reg acc[MR][kVectors];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < kVectors; ++v)
            acc[i][v] = V::zero();
    int64_t mine = ahead.next ? ahead.share : k; // the next step this block asks for
    for (int64_t p = 0; p < k; ++p) {
        const float* wp = w + p * kWide;
        if (p == mine) {
            for (int64_t c = 0; c < kPass; c += kLineFloats)
                __builtin_prefetch(ahead.next + p * kWide + c);
            mine += ahead.shares;
        }
        typename V::Reg b[kVectors];
        for (int v = 0; v < kVectors; ++v)
            b[v] = V::load(wp + v * V::kLanes);
        for (int i = 0; i < MR; ++i) {
            const typename V::Reg a = V::broadcast(x[i * k + p]);
            for (int v = 0; v < kVectors; ++v)
                acc[i][v] = V::fma(a, b[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < kVectors; ++v)
            V::store(y + i * ldy + v * V::kLanes,
                     bias ? V::add(acc[i][v], V::load(bias + v * V::kLanes)) : acc[i][v]);
}

// The last rows of a band (fewer than a block) as one block of R rows, R chosen at run time.
template <class V, int R>
void restOfRows(int64_t rows, const float* x, int64_t k, const float* w, const float* bias,
                float* y, int64_t ldy, Ahead ahead) {
    if constexpr (R >= 1) {
        if (rows == R) return block<V, R>(x, k, w, bias, y, ldy, ahead);
        restOfRows<V, R - 1>(rows, x, k, w, bias, y, ldy, ahead);
    }
}

// `rows` rows by one pass's kVectors · kLanes channels, all of them written; `next`: the
// weights of the pass to come (or null).
template <class V>
void pass(const float* x, int64_t rows, int64_t k, const float* w, const float* bias, float* y,
          int64_t ldy, const float* next) {
    constexpr int MR = V::kWideRows;
    const int64_t shares = (rows + MR - 1) / MR;
    int64_t i = 0;
    for (; i + MR <= rows; i += MR)
        block<V, MR>(x + i * k, k, w, bias, y + i * ldy, ldy, {next, i / MR, shares});
    restOfRows<V, MR - 1>(rows - i, x + i * k, k, w, bias, y + i * ldy, ldy,
                          {next, i / MR, shares});
}

// The channels from a panel's start (`w`) on: n of them, in as many panels as that takes.
template <class V>
void gemm(const float* x, int64_t m, int64_t k, const float* w, const float*, const float* bias,
          int64_t n, float* y, int64_t ldy) {
    constexpr int64_t kPass = kVectors * V::kLanes;
    static_assert(kWide % kPass == 0);
    const int64_t band =
        std::max<int64_t>(V::kWideRows, kBandBytes / (4 * k) / V::kWideRows * V::kWideRows);
    for (int64_t r = 0; r < m; r += band) {
        const int64_t rows = std::min(band, m - r);
        const float* xr = x + r * k;
        float* yr = y + r * ldy;
        for (int64_t first = 0; first < n; first += kPass) {
            const float* wp = w + wideIndex(first, 0, k);
            const float* next = first + kPass < n ? w + wideIndex(first + kPass, 0, k) : nullptr;
            const int64_t count = std::min(kPass, n - first);
            if (count == kPass) {
                pass<V>(xr, rows, k, wp, bias ? bias + first : nullptr, yr + first, ldy, next);
                continue;
            }
            // The last channels of the last panel: through a whole pass's worth of room, then
            // only the channels that exist are kept (the padding's weights are zeros).
            alignas(64) float room[V::kWideRows * kPass];
            for (int64_t i = 0; i < rows; i += V::kWideRows) {
                const int64_t some = std::min<int64_t>(V::kWideRows, rows - i);
                pass<V>(xr + i * k, some, k, wp, nullptr, room, kPass, nullptr);
                for (int64_t a = 0; a < some; ++a)
                    for (int64_t c = 0; c < count; ++c)
                        yr[(i + a) * ldy + first + c] =
                            bias ? room[a * kPass + c] + bias[first + c] : room[a * kPass + c];
            }
        }
    }
}

} // namespace esper::kernels::wide
