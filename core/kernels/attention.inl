// The attention kernel's body (kernels/attention.h) for one instruction set: kLanes as in
// vector_math.inl. Rows r in [from, to) of batch · heads · queries, in that order.
#pragma once

#include "kernels/attention.h"
#include "kernels/vector_math.inl"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace esper::kernels::vmath {

// s[0, NB · kLanes) = Σ_d q[d] · keys[d · stride + ·], the sums held in registers down d.
template <int kLanes, int NB>
inline void scoreBlock(const float* q, int64_t dim, const float* keys, int64_t stride, float* s) {
    using F = typename Vec<kLanes>::F;
    F acc[NB] = {};
    for (int64_t d = 0; d < dim; ++d) {
        const F qd = F{} + q[d];
        for (int v = 0; v < NB; ++v) {
            F kv;
            std::memcpy(&kv, keys + d * stride + v * kLanes, sizeof kv);
            acc[v] += qd * kv;
        }
    }
    std::memcpy(s, acc, sizeof acc);
}

// out[d0, d0 + NB · kLanes) = Σ_j p[j] · v_j[same], the sums held in registers down j.
template <int kLanes, int NB>
inline void weighBlock(const float* p, int64_t n, const HeadsView& values, int64_t b, int64_t kv,
                       int64_t d0, float* out) {
    using F = typename Vec<kLanes>::F;
    F acc[NB] = {};
    for (int64_t j = 0; j < n; ++j) {
        const F pj = F{} + p[j];
        const float* row = values.row(b, kv, j) + d0;
        for (int v = 0; v < NB; ++v) {
            F x;
            std::memcpy(&x, row + v * kLanes, sizeof x);
            acc[v] += pj * x;
        }
    }
    std::memcpy(out + d0, acc, sizeof acc);
}

// s[j] ← s[j] · scale (+ bias[j]) over n floats; returns their largest.
template <int kLanes>
inline float scaleAndMax(float* s, int64_t n, float scale, const float* bias) {
    using F = typename Vec<kLanes>::F;
    F most = F{} - std::numeric_limits<float>::infinity();
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        F v, add{};
        std::memcpy(&v, s + j, sizeof v);
        if (bias) std::memcpy(&add, bias + j, sizeof add);
        v = v * scale + add;
        most = most > v ? most : v;
        std::memcpy(s + j, &v, sizeof v);
    }
    float out = most[0];
    for (int l = 1; l < kLanes; ++l)
        out = std::max(out, most[l]);
    for (; j < n; ++j) {
        s[j] = bias ? s[j] * scale + bias[j] : s[j] * scale;
        out = std::max(out, s[j]);
    }
    return out;
}

// A run of up to 4 vectors as one block of NB, NB chosen at run time.
template <class Block> inline void upTo4(int64_t vectors, Block block) {
    switch (vectors) {
    case 1:
        return block(std::integral_constant<int, 1>{});
    case 2:
        return block(std::integral_constant<int, 2>{});
    case 3:
        return block(std::integral_constant<int, 3>{});
    default:
        return block(std::integral_constant<int, 4>{});
    }
}

// One query row at a time. Its scores against the keys come from a copy of the head's keys
// transposed (made once per head) in blocks of up to 4 vectors of keys, and its output in
// blocks of up to 4 vectors of dim, each block's sums in registers: no sum across a vector,
// and no sum that goes through memory at every step.
template <int kLanes> void attentionRows(const Attention& a, int64_t from, int64_t to) {
    const int64_t stride = (a.keys + kLanes - 1) / kLanes * kLanes; // keys, padded with zeros
    std::vector<float> keys(size_t(a.dim * stride), 0.0f);
    std::vector<float> scores(static_cast<size_t>(stride));
    const int64_t group = a.heads / a.kvHeads, whole = a.dim / kLanes * kLanes;
    int64_t held = -1; // which batch · kv head `keys` holds
    for (int64_t r = from; r < to; ++r) {
        const int64_t b = r / (a.heads * a.queries), h = r / a.queries % a.heads, i = r % a.queries,
                      kv = h / group;
        float* out = a.out + ((b * a.queries + i) * a.heads + h) * a.dim;
        if (a.hasKeys && a.hasKeys[b * a.queries + i] == 0) {
            std::fill(out, out + a.dim, 0.0f);
            continue;
        }
        if (b * a.kvHeads + kv != held) {
            held = b * a.kvHeads + kv;
            for (int64_t j = 0; j < a.keys; ++j) {
                const float* key = a.k.row(b, kv, j);
                for (int64_t d = 0; d < a.dim; ++d)
                    keys[size_t(d * stride + j)] = key[d];
            }
        }
        const float* q = a.q.row(b, h, i);
        for (int64_t j = 0; j < stride; j += 4 * kLanes)
            upTo4((stride - j) / kLanes, [&](auto nb) {
                scoreBlock<kLanes, nb()>(q, a.dim, keys.data() + j, stride, scores.data() + j);
            });
        const float most =
            scaleAndMax<kLanes>(scores.data(), a.keys, a.scale,
                                a.bias ? a.bias + (b * a.queries + i) * a.keys : nullptr);
        const float total = expShifted<kLanes>(scores.data(), a.keys, most);
        for (int64_t j = 0; j < a.keys; ++j)
            scores[size_t(j)] /= total;
        for (int64_t d = 0; d < whole; d += 4 * kLanes)
            upTo4((whole - d) / kLanes, [&](auto nb) {
                weighBlock<kLanes, nb()>(scores.data(), a.keys, a.v, b, kv, d, out);
            });
        for (int64_t d = whole; d < a.dim; ++d) { // the last dim % kLanes
            float sum = 0;
            for (int64_t j = 0; j < a.keys; ++j)
                sum += scores[size_t(j)] * a.v.row(b, kv, j)[d];
            out[d] = sum;
        }
    }
}

} // namespace esper::kernels::vmath
