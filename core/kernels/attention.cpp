#include "kernels/attention.h"

#include "kernels/weight_kernels_isa.h"

namespace esper::kernels {

void attention(const Attention& a, Isa isa) {
    const auto rows = kernelsFor(isa).attentionRows;
    const int64_t n = a.batch * a.heads * a.queries;
    parallelFor(n, 1, n * a.keys * a.dim * 2, [&](int64_t from, int64_t to) {
        if (from < to) rows(a, from, to);
    });
}

} // namespace esper::kernels
