// Teacher-forced text after k prefix positions (a mapper's prefix, or a document's object
// summaries): the token rows as ids and the labels that score them, and the loss.
#pragma once

#include <ATen/core/Tensor.h>
#include <cstdint>
#include <vector>

namespace esper {

struct PrefixedRows {
    at::Tensor ids;    // [B, n] long, right-padded with `pad`
    at::Tensor labels; // [B, k + n] long: position k + j - 1 predicts token j; -100 if unscored
};

// Row i's tokens from scoredFrom[i] on are scored (the prefix's last position predicts token 0).
PrefixedRows prefixedRows(const std::vector<std::vector<int>>& rows,
                          const std::vector<size_t>& scoredFrom, int64_t k, int pad);

// Mean cross-entropy of logits [B, T, V] against labels [B, T], skipping -100.
at::Tensor nextTokenLoss(const at::Tensor& logits, const at::Tensor& labels);

} // namespace esper
