// The kernels each instruction-set file provides (internal): one signature for both weight
// kinds (fp16 has no scales: `scale` is null), and the fp32 products over many rows. `w` and
// `scale` point at the start of a panel of PanelWeights (k padded as it says), and the product
// covers the n channels from there.
#pragma once

#include "kernels/attention.h"
#include "kernels/weight_kernels.h"

#include <cstdint>
#include <functional>

namespace esper::kernels {

template <class W>
using Kernel = void (*)(const float* x, int64_t m, int64_t k, const W* w, const float* scale,
                        const float* bias, int64_t n, float* y, int64_t ldy);

struct IsaKernels {
    Kernel<int8_t> int8;
    Kernel<uint16_t> half;
    Kernel<float> wide; // WideWeights: `w` at a panel's start, `scale` unused
    void (*quickGelu)(float* x, int64_t n);
    void (*attentionRows)(const Attention& a, int64_t from, int64_t to);
};

// The kernels for `isa` (compiled in only on x86), else the portable ones.
IsaKernels kernelsFor(Isa isa);

// slice(from, to) over [0, n) split into slices on multiples of `grain`, over the kernels'
// threads when `cost` (multiply-adds) is worth it, else on the caller alone.
void parallelFor(int64_t n, int64_t grain, int64_t cost,
                 const std::function<void(int64_t, int64_t)>& slice);

extern const IsaKernels kAvx2Kernels;   // weight_kernels_avx2.cpp
extern const IsaKernels kAvx512Kernels; // weight_kernels_avx512.cpp

} // namespace esper::kernels
