// The kernels each instruction-set file provides (internal): one signature for both weight
// kinds (fp16 has no scales: `scale` is null). `w` and `scale` point at the start of a panel of
// PanelWeights (k padded as it says), and the product covers the n channels from there.
#pragma once

#include <cstdint>

namespace esper::kernels {

template <class W>
using Kernel = void (*)(const float* x, int64_t m, int64_t k, const W* w, const float* scale,
                        const float* bias, int64_t n, float* y, int64_t ldy);

struct IsaKernels {
    Kernel<int8_t> int8;
    Kernel<uint16_t> half;
};

extern const IsaKernels kAvx2Kernels;   // weight_kernels_avx2.cpp
extern const IsaKernels kAvx512Kernels; // weight_kernels_avx512.cpp

} // namespace esper::kernels
