// The kernels each instruction-set file provides (internal): one signature for both weight
// kinds (fp16 has no scales: `scale` is null), and the fp32 products over many rows. `w` and
// `scale` point at the start of a panel of PanelWeights (k padded as it says), and the product
// covers the n channels from there.
#pragma once

#include "kernels/weight_kernels.h"

#include <cstdint>

namespace esper::kernels {

template <class W>
using Kernel = void (*)(const float* x, int64_t m, int64_t k, const W* w, const float* scale,
                        const float* bias, int64_t n, float* y, int64_t ldy);

struct IsaKernels {
    Kernel<int8_t> int8;
    Kernel<uint16_t> half;
    Kernel<float> wide; // WideWeights: `w` at a panel's start, `scale` unused
    void (*quickGelu)(float* x, int64_t n);
};

// The kernels for `isa` (compiled in only on x86), else the portable ones.
IsaKernels kernelsFor(Isa isa);

extern const IsaKernels kAvx2Kernels;   // weight_kernels_avx2.cpp
extern const IsaKernels kAvx512Kernels; // weight_kernels_avx512.cpp

} // namespace esper::kernels
