// Activation functions over fp32 arrays in place, vectorised for the CPU's instruction set as
// the weight kernels are (kernels/weight_kernels.h: the same Isa choice and $ESPER_CPU_KERNELS).
// LibTorch 1.13 runs CLIP's QuickGELU as three separate passes with a sigmoid that is not
// vectorised well: 0.8 ms for one image's 50 x 3072 values on one core, 10 ms of the 12 layers.
#pragma once

#include "kernels/weight_kernels.h"

#include <cstdint>

namespace esper::kernels {

// x ← x · σ(1.702 x) (QuickGELU), within a few ulp of the exact function.
void quickGelu(float* x, int64_t n, Isa isa = activeIsa());

} // namespace esper::kernels
