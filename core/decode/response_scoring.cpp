#include "decode/response_scoring.h"

#include <ATen/ATen.h>
#include <algorithm>

namespace esper {

ResponseBatch ResponseBatch::build(const std::vector<std::vector<int>>& queries,
                                   const std::vector<std::vector<int>>& responses, int pad) {
    const int64_t b = static_cast<int64_t>(queries.size());
    size_t q = 1, r = 1;
    for (const auto& x : queries)
        q = std::max(q, x.size());
    for (const auto& x : responses)
        r = std::max(r, x.size());
    ResponseBatch out{at::full({b, int64_t(q)}, pad, at::kLong), at::zeros({b, int64_t(q)}),
                      at::full({b, int64_t(r)}, pad, at::kLong), at::zeros({b, int64_t(r)})};
    auto qi = out.queryIds.accessor<int64_t, 2>();
    auto qm = out.queryMask.accessor<float, 2>();
    auto ri = out.responseIds.accessor<int64_t, 2>();
    auto rm = out.responseMask.accessor<float, 2>();
    for (int64_t i = 0; i < b; ++i) {
        const auto& query = queries[size_t(i)];
        const int64_t start = int64_t(q) - int64_t(query.size());
        for (size_t j = 0; j < query.size(); ++j) {
            qi[i][start + int64_t(j)] = query[j];
            qm[i][start + int64_t(j)] = 1;
        }
        const auto& response = responses[size_t(i)];
        for (size_t j = 0; j < response.size(); ++j) {
            ri[i][int64_t(j)] = response[j];
            rm[i][int64_t(j)] = 1;
        }
    }
    return out;
}

ResponseBatch ResponseBatch::select(const at::Tensor& index) const {
    const at::Tensor qm = queryMask.index_select(0, index);
    const at::Tensor rm = responseMask.index_select(0, index);
    const int64_t q = qm.sum(1).max().item<int64_t>(), r = rm.sum(1).max().item<int64_t>();
    const int64_t qFrom = qm.size(1) - std::max<int64_t>(q, 1);
    const int64_t rKeep = std::max<int64_t>(r, 1);
    return {queryIds.index_select(0, index).narrow(1, qFrom, qm.size(1) - qFrom),
            qm.narrow(1, qFrom, qm.size(1) - qFrom),
            responseIds.index_select(0, index).narrow(1, 0, rKeep), rm.narrow(1, 0, rKeep)};
}

at::Tensor responseHidden(const CausalLm& lm, const at::Tensor& prefixes,
                          const ResponseBatch& batch) {
    const auto dev = lm.options().device;
    const auto dtype = lm.options().dtype;
    const int64_t b = batch.rows(), q = batch.queryIds.size(1), r = batch.responseIds.size(1);
    const int64_t p = prefixes.defined() ? prefixes.size(1) : 0;
    const at::Tensor ids = at::cat({batch.queryIds, batch.responseIds}, 1).to(dev);
    at::Tensor embeds = lm.embed(ids);
    if (p > 0) embeds = at::cat({prefixes.to(dev, dtype), embeds}, 1);
    // The response's own padding comes after each row's end, so it never reaches the positions
    // that count; only the query's left padding is masked.
    const at::Tensor mask = at::cat({at::ones({b, p}, at::kLong), batch.queryMask.to(at::kLong),
                                     at::ones({b, r}, at::kLong)},
                                    1)
                                .to(dev);
    const bool padded = batch.queryMask.min().item<float>() < 1;
    LmInput in{embeds, (mask.cumsum(1) - 1).clamp_min(0), padded ? mask : at::Tensor(), false};
    return lm.hidden(in, nullptr).narrow(1, p + q - 1, r);
}

ResponseScores scoreFromHidden(const CausalLm& lm, const at::Tensor& hidden,
                               const at::Tensor& responseIds, const std::vector<int64_t>& banned) {
    at::Tensor logits = lm.logitsOf(hidden).to(at::kFloat);
    if (!banned.empty()) {
        const at::Tensor columns = at::tensor(banned, at::kLong).to(logits.device());
        logits = logits.index_fill(-1, columns, -100000.0);
    }
    const at::Tensor logp = at::log_softmax(logits, -1);
    const at::Tensor chosen =
        logp.gather(-1, responseIds.to(logits.device()).unsqueeze(-1)).squeeze(-1);
    const at::Tensor entropy = -(logp.exp() * logp).sum(-1);
    return {chosen, entropy};
}

ResponseScores scoreResponses(const CausalLm& lm, const at::Tensor& prefixes,
                              const ResponseBatch& batch, const std::vector<int64_t>& banned) {
    return scoreFromHidden(lm, responseHidden(lm, prefixes, batch), batch.responseIds, banned);
}

} // namespace esper
