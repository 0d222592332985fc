#include "training/framework/teacher_forcing.h"

#include <ATen/ATen.h>
#include <algorithm>

namespace esper {

PrefixedRows prefixedRows(const std::vector<std::vector<int>>& rows,
                          const std::vector<size_t>& scoredFrom, int64_t k, int pad) {
    size_t longest = 0;
    for (const auto& r : rows)
        longest = std::max(longest, r.size());
    const int64_t b = static_cast<int64_t>(rows.size()), n = static_cast<int64_t>(longest);
    PrefixedRows out{at::full({b, n}, pad, at::kLong), at::full({b, k + n}, -100, at::kLong)};
    auto ids = out.ids.accessor<int64_t, 2>();
    auto labels = out.labels.accessor<int64_t, 2>();
    for (int64_t i = 0; i < b; ++i) {
        const auto& r = rows[static_cast<size_t>(i)];
        for (size_t j = 0; j < r.size(); ++j) {
            ids[i][static_cast<int64_t>(j)] = r[j];
            if (j >= scoredFrom[static_cast<size_t>(i)] && k + static_cast<int64_t>(j) >= 1)
                labels[i][k + static_cast<int64_t>(j) - 1] = r[j];
        }
    }
    return out;
}

at::Tensor nextTokenLoss(const at::Tensor& logits, const at::Tensor& labels) {
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}),
                                  labels.to(logits.device()).reshape({-1}), {}, at::Reduction::Mean,
                                  -100);
}

} // namespace esper
