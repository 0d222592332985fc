// The kernels for AVX-512 (F, with F16C and FMA; this file alone is compiled with them).
#include "kernels/attention.inl"
#include "kernels/simd_gemm.inl"
#include "kernels/vector_math.inl"
#include "kernels/weight_kernels_isa.h"
#include "kernels/wide_gemm.inl"

#include <immintrin.h>

namespace esper::kernels {
namespace {

struct Avx512 {
    using Reg = __m512;
    static constexpr int kLanes = 16;
    // 8 rows x 4 channels of sums fill the 32 registers (x is read from memory by the
    // multiply-adds themselves), and seven styles decoded together read each weight once per
    // step. 4 channels run twice as fast as 2 (7 rows of GPT-2's int8 weights, one core: 52
    // against 23 GMAC/s), whose x loads and 32-byte weight loads per step bound them.
    static constexpr int kRows = 8, kChannelsForRows = 4, kChannelsFor1Row = 8;
    // Many rows: 14 rows x 2 vectors of sums, 2 of weights and a broadcast x. CLIP's image
    // products, one core, weights in cache: 70-79 GMAC/s (LibTorch's OpenBLAS: 23-28).
    static constexpr int kWideRows = 14;
    static Reg zero() { return _mm512_setzero_ps(); }
    static Reg broadcast(float v) { return _mm512_set1_ps(v); }
    static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
    static Reg load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
    static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
    static Reg loadWeights(const int8_t* p) {
        return _mm512_cvtepi32_ps(
            _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    }
    static Reg loadWeights(const uint16_t* p) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
    static float weight(int8_t q) { return float(q); }
    static float weight(uint16_t h) { return _cvtsh_ss(h); }
    static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
    static float sum(Reg v) { return _mm512_reduce_add_ps(v); }
};

} // namespace

const IsaKernels kAvx512Kernels{&simd::gemm<Avx512, int8_t>, &simd::gemm<Avx512, uint16_t>,
                                &wide::gemm<Avx512>, &vmath::quickGelu<16>,
                                &vmath::attentionRows<16>};

} // namespace esper::kernels
