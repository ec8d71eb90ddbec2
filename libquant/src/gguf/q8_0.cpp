#include "q8_0.hpp"

#include <cmath>

#include "cpu_features.hpp"
#include "quant_search.hpp"
#include "libquant/core/half.hpp"
#include "libquant/gguf/row_codec.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace libquant::gguf {

// Scalar reference, as quantize_row_q8_0_ref: q = roundf(x / d), rounding
// half away from zero (not to even).
void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < 32; ++j) y[b].qs[j] = truncate_to_int8(std::roundf(x[b * 32 + j] * id));
  }
}

#if defined(__x86_64__)
namespace {
__attribute__((target("avx2"))) void quantize_row_q8_0_avx2(const float* x, BlockQ8_0* y, int64_t nb) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t b = 0; b < nb; ++b) {
    const float* xb = x + b * 32;
    __m256 v[4];
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(xb + 8 * k);
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign_mask, v[k]));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      // roundf: truncate, then step away from zero when the fraction is >= 0.5.
      const __m256 s = _mm256_mul_ps(v[k], vid);
      const __m256 t = _mm256_round_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(s, t));
      const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), one);
      const __m256 r = _mm256_add_ps(t, _mm256_or_ps(step, _mm256_and_ps(s, sign_mask)));
      q[k] = _mm256_cvtps_epi32(r);  // exact: r is integral
    }
    const __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
    __m256i p = _mm256_packs_epi16(p01, p23);
    // undo the lane interleaving of the two packs
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), p);
  }
}
}  // namespace
#endif

void quantize_row_q8_0_fast(const float* x, void* dst, int64_t n) {
#if defined(__x86_64__)
  if (use_avx2()) return quantize_row_q8_0_avx2(x, static_cast<BlockQ8_0*>(dst), n / 32);
#endif
  quantize_row_q8_0_ref(x, dst, n);
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* y = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / 32; ++b) {
    const float d = f16_to_f32(y[b].d);
    for (int j = 0; j < 32; ++j) dst[b * 32 + j] = d * static_cast<float>(y[b].qs[j]);
  }
}

}  // namespace libquant::gguf
