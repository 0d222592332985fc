// Teacher-forced passes over [prefix][query][response] rows, as ESPER's PPO recomputes them after
// sampling: each response token's log-probability, the entropy of the distribution it was drawn
// from, and the hidden states that predicted it (what a value head reads). Differentiable: the
// trainer runs them with gradients through the prefix (the policy's mapper) or the model (the
// value model).
#pragma once

#include "models/causal_lm.h"

#include <ATen/core/Tensor.h>
#include <vector>

namespace esper {

// Queries left-padded (so every row's last query token sits in the same column, where the first
// response token is predicted) and responses right-padded after each row's end.
struct ResponseBatch {
    at::Tensor queryIds, queryMask;       // [B, Q] long / float 0-1
    at::Tensor responseIds, responseMask; // [B, R] long / float 0-1
    // Every query must hold at least one token; each response counts all its tokens.
    static ResponseBatch build(const std::vector<std::vector<int>>& queries,
                               const std::vector<std::vector<int>>& responses, int pad);
    int64_t rows() const { return queryIds.size(0); }
    // The rows at `index` [N] long, without the columns that are padding in all of them: the
    // query's leading ones and the response's trailing ones.
    ResponseBatch select(const at::Tensor& index) const;
};

// The last layer's hidden states [B, R, E] at the positions that predict each response token:
// the last query position, then each response token but the last. Positions count from 0 at
// the first prefix embedding and skip the query's padding, as the decoder places them.
// `prefixes` [B, P, E] may be undefined (text alone, as ESPER's reference policy reads).
at::Tensor responseHidden(const CausalLm& lm, const at::Tensor& prefixes,
                          const ResponseBatch& batch);

struct ResponseScores {
    at::Tensor logprobs; // [B, R] log-probability of each response token
    at::Tensor entropy;  // [B, R] of each predicted distribution
};
// From responseHidden's states: the head, the `banned` tokens set to -1e5 (as the official
// trainer bans end-of-text in its forward passes), log-softmax at temperature 1.
ResponseScores scoreFromHidden(const CausalLm& lm, const at::Tensor& hidden,
                               const at::Tensor& responseIds, const std::vector<int64_t>& banned);
ResponseScores scoreResponses(const CausalLm& lm, const at::Tensor& prefixes,
                              const ResponseBatch& batch, const std::vector<int64_t>& banned = {});

} // namespace esper
