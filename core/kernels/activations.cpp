#include "kernels/activations.h"

#include "kernels/weight_kernels_isa.h"

namespace esper::kernels {

void quickGelu(float* x, int64_t n, Isa isa) {
    kernelsFor(isa).quickGelu(x, n);
}

} // namespace esper::kernels
