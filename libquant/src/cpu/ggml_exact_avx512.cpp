#include "ggml_exact_avx512.hpp"

#if defined(__x86_64__)
// GCC 12 reports its own intrinsics headers (_mm512_undefined_*) as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#define LQ_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,f16c,fma")))

namespace libquant::cpu::ggml::avx512 {
namespace {

LQ_AVX512 inline __m512 load(const float* p) { return _mm512_loadu_ps(p); }

// _mm512_reduce_add_ps as GCC expands it: halves, quarters, then pairs.
LQ_AVX512 inline float reduce(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
  const __m128 b = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
  const __m128 c = _mm_add_ps(b, _mm_permute_ps(b, 0x4e));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_shuffle_ps(c, c, 0x55)));
}

// One RM x RN tile: each output's 16 FMA chains live in one register.
template <int RM, int RN>
LQ_AVX512 void tile(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                    int64_t ii, int64_t jj) {
  __m512 acc[RN][RM];
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) acc[j][i] = _mm512_setzero_ps();
  for (int64_t l = 0; l < k; l += 16) {
    __m512 a[RM];
    for (int i = 0; i < RM; ++i) a[i] = load(A + lda * (ii + i) + l);
    for (int j = 0; j < RN; ++j) {
      const __m512 b = load(B + ldb * (jj + j) + l);
      for (int i = 0; i < RM; ++i) acc[j][i] = _mm512_fmadd_ps(a[i], b, acc[j][i]);
    }
  }
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) C[ldc * (jj + j) + ii + i] = reduce(acc[j][i]);
}

LQ_AVX512 void run(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                   int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  constexpr int RN = 6;
  for (int64_t ii = i0; ii < i1; ii += 4) {
    int64_t jj = j0;
    for (; jj + RN <= j1; jj += RN) tile<4, RN>(A, lda, B, ldb, k, C, ldc, ii, jj);
    switch (j1 - jj) {
      case 5:
        tile<4, 5>(A, lda, B, ldb, k, C, ldc, ii, jj);
        break;
      case 4:
        tile<4, 4>(A, lda, B, ldb, k, C, ldc, ii, jj);
        break;
      case 3:
        tile<4, 3>(A, lda, B, ldb, k, C, ldc, ii, jj);
        break;
      case 2:
        tile<4, 2>(A, lda, B, ldb, k, C, ldc, ii, jj);
        break;
      case 1:
        tile<4, 1>(A, lda, B, ldb, k, C, ldc, ii, jj);
        break;
      default:
        break;
    }
  }
}

// ggml_exact.cpp's vexpf on 16 lanes: the same operations, fused where it fuses.
LQ_AVX512 inline __m512 vexp(__m512 x) {
  const __m512 r = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
  const __m512 n = _mm512_sub_ps(z, r);
  const __m512 b =
      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f), _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 p45 = _mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f));
  const __m512 p23 = _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f));
  const __m512 p01 = _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f));
  const __m512 j = _mm512_fmadd_ps(_mm512_fmadd_ps(p45, u, p23), u, p01);
  const __m512 res = _mm512_scalef_ps(j, n);
  // |n| > 192: the result is 0 (n <= 0) or infinity.
  const __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192.0f), _CMP_GT_OQ);
  const __mmask16 neg = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
  const __m512 alt = _mm512_mask_blend_ps(neg, _mm512_set1_ps(__builtin_inff()), _mm512_setzero_ps());
  return _mm512_mask_blend_ps(big, res, alt);
}

LQ_AVX512 void round_to_half_impl(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(x + i, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i) {
    const __m128 v = _mm_set_ss(x[i]);
    x[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)));
  }
}

LQ_AVX512 void exp_minus_impl(const float* x, float sub, float* y, int64_t n) {
  const __m512 s = _mm512_set1_ps(sub);
  for (int64_t i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, vexp(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
}

LQ_AVX512 void silu_mul_impl(const float* x, const float* u, float* out, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 sv = _mm512_div_ps(v, _mm512_add_ps(one, vexp(_mm512_sub_ps(_mm512_setzero_ps(), v))));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(sv, _mm512_loadu_ps(u + i)));
  }
}

}  // namespace

void round_to_half(float* x, int64_t n) { round_to_half_impl(x, n); }

void exp_minus(const float* x, float sub, float* y, int64_t n) { exp_minus_impl(x, sub, y, n); }

void silu_mul(const float* x, const float* u, float* out, int64_t n) { silu_mul_impl(x, u, out, n); }

void tinyblas_f32(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                  int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  run(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1);
}

}  // namespace libquant::cpu::ggml::avx512

#else

namespace libquant::cpu::ggml::avx512 {
void tinyblas_f32(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t, int64_t, int64_t, int64_t,
                  int64_t) {}
void round_to_half(float*, int64_t) {}
void exp_minus(const float*, float, float*, int64_t) {}
void silu_mul(const float*, const float*, float*, int64_t) {}
}  // namespace libquant::cpu::ggml::avx512

#endif
