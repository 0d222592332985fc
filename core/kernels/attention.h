// Scaled dot-product attention over fp32 arrays for CPU inference, one query row at a time:
// scores against every key, softmax, the weighted sum of the values, written straight into the
// merged-heads layout the output projection reads. LibTorch 1.13 spends ~0.45 ms on one
// CLIP image layer's attention (12 heads, 50 x 50), almost all of it in dispatch and copies
// around small products; this does it in one pass per row. Vectorised per instruction set as
// the weight kernels are (kernels/weight_kernels.h), split over the same threads.
#pragma once

#include "kernels/weight_kernels.h"

#include <cstdint>

namespace esper::kernels {

// A [batch, heads, rows, dim] array whose last dimension is contiguous: element strides for
// the other three.
struct HeadsView {
    const float* data = nullptr;
    int64_t batchStride = 0, headStride = 0, rowStride = 0;
    const float* row(int64_t b, int64_t h, int64_t i) const {
        return data + b * batchStride + h * headStride + i * rowStride;
    }
};

struct Attention {
    int64_t batch = 0, heads = 0, kvHeads = 0, queries = 0, keys = 0, dim = 0;
    HeadsView q, k, v; // q: heads; k, v: kvHeads (query head h reads kv head h / (heads / kvHeads))
    float scale = 1;
    const float* bias = nullptr;    // [batch, queries, keys] added to the scores, or null
    const float* hasKeys = nullptr; // [batch, queries]: 0 where a query sees no key (its output
                                    // is then 0), or null
    float* out = nullptr;           // [batch, queries, heads, dim]
};

// out[b, i, h, :] = Σ_j softmax_j(scale · q[b, h, i] · k[b, h', j] + bias[b, i, j]) · v[b, h', j]
void attention(const Attention& a, Isa isa = activeIsa());

} // namespace esper::kernels
