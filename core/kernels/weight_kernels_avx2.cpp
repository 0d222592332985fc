// The kernels for AVX2 + FMA + F16C (this file alone is compiled with them; weight_kernels.cpp
// calls it only on a CPU that has them).
#include "kernels/attention.inl"
#include "kernels/simd_gemm.inl"
#include "kernels/vector_math.inl"
#include "kernels/weight_kernels_isa.h"
#include "kernels/wide_gemm.inl"

#include <immintrin.h>

namespace esper::kernels {
namespace {

struct Avx2 {
    using Reg = __m256;
    static constexpr int kLanes = 8;
    // 16 registers: 4 rows x 3 channels of sums, 3 weights and a row of x.
    static constexpr int kRows = 4, kChannelsForRows = 3, kChannelsFor1Row = 8;
    // Many rows: 6 rows x 2 vectors of sums, 2 of weights and a broadcast x.
    static constexpr int kWideRows = 6;
    static Reg zero() { return _mm256_setzero_ps(); }
    static Reg broadcast(float v) { return _mm256_set1_ps(v); }
    static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
    static Reg load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
    static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
    static Reg loadWeights(const int8_t* p) {
        return _mm256_cvtepi32_ps(
            _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    }
    static Reg loadWeights(const uint16_t* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
    static float weight(int8_t q) { return float(q); }
    static float weight(uint16_t h) { return _cvtsh_ss(h); }
    static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
    static float sum(Reg v) {
        const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        const __m128 pair = _mm_add_ps(half, _mm_movehl_ps(half, half));
        return _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
    }
};

} // namespace

const IsaKernels kAvx2Kernels{&simd::gemm<Avx2, int8_t>, &simd::gemm<Avx2, uint16_t>,
                              &wide::gemm<Avx2>, &vmath::quickGelu<8>, &vmath::attentionRows<8>};

} // namespace esper::kernels
