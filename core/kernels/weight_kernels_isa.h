// The per-instruction-set entry points weight_kernels.cpp dispatches to (internal); one
// signature for both weight kinds (fp16 has no scales: `scale` is null).
#pragma once

#include <cstdint>

namespace esper::kernels {

void gemmInt8Avx2(const float* x, int64_t m, int64_t k, const int8_t* w, const float* scale,
                  const float* bias, int64_t n, float* y, int64_t ldy);
void gemmHalfAvx2(const float* x, int64_t m, int64_t k, const uint16_t* w, const float* scale,
                  const float* bias, int64_t n, float* y, int64_t ldy);
void gemmInt8Avx512(const float* x, int64_t m, int64_t k, const int8_t* w, const float* scale,
                    const float* bias, int64_t n, float* y, int64_t ldy);
void gemmHalfAvx512(const float* x, int64_t m, int64_t k, const uint16_t* w, const float* scale,
                    const float* bias, int64_t n, float* y, int64_t ldy);

} // namespace esper::kernels
