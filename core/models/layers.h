// Building blocks shared by the transformer families.
#pragma once

#include "io/model_config.h"

#include <ATen/core/Tensor.h>

namespace esper {

at::Tensor activate(const at::Tensor& x, Activation kind);

// Which keys each query may see: causal (lower-right aligned for a cache of `past` keys) and,
// when `keyMask` [B, past + T] is given, only keys whose mask is 1.
struct AttentionMask {
    at::Tensor bias;    // [B, 1, T, S] additive (0 or the dtype's lowest), or undefined
    at::Tensor hasKeys; // [B, 1, T, 1]: 0 for queries that may see no key at all
};
AttentionMask buildAttentionMask(const at::Tensor& keyMask, int64_t batch, int64_t queries,
                                 int64_t past, bool causal, const at::TensorOptions& options);

// softmax(q kᵀ · scale + bias) v in fp32, then back to q's dtype. k and v may have fewer heads
// than q (grouped-query attention). Queries that see no key output zeros, as PyTorch's SDPA does.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const AttentionMask& mask, double scale);

// [B, T, H·D] <-> [B, H, T, D]
at::Tensor splitHeads(const at::Tensor& x, int64_t heads);
at::Tensor mergeHeads(const at::Tensor& x);

} // namespace esper
