#include "ggml_exact_avx2.hpp"

#include "ggml_exact.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

#define LQ_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace libquant::cpu::ggml::avx2 {
namespace {

// 16 FMA chains as two registers: lanes 0-7 and 8-15 of the AVX-512 one.
struct Chains {
  __m256 lo, hi;
};

// _mm512_reduce_add_ps's order (see the AVX-512 kernels): the high eight
// lanes plus the low eight, then halves, then pairs.
LQ_AVX2 inline float reduce(Chains c) {
  const __m256 a = _mm256_add_ps(c.hi, c.lo);
  const __m128 b = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
  const __m128 d = _mm_add_ps(b, _mm_permute_ps(b, 0x4e));
  return _mm_cvtss_f32(_mm_add_ss(d, _mm_shuffle_ps(d, d, 0x55)));
}

// One RM x RN tile. Which outputs share a tile changes no output's chain
// order, so the tile is sized for AVX2's sixteen registers.
template <int RM, int RN>
LQ_AVX2 void tile(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                  int64_t ii, int64_t jj) {
  Chains acc[RN][RM];
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) acc[j][i] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t l = 0; l < k; l += 16) {
    __m256 alo[RM], ahi[RM];
    for (int i = 0; i < RM; ++i) {
      alo[i] = _mm256_loadu_ps(A + lda * (ii + i) + l);
      ahi[i] = _mm256_loadu_ps(A + lda * (ii + i) + l + 8);
    }
    for (int j = 0; j < RN; ++j) {
      const float* b = B + ldb * (jj + j) + l;
      const __m256 blo = _mm256_loadu_ps(b), bhi = _mm256_loadu_ps(b + 8);
      for (int i = 0; i < RM; ++i) {
        acc[j][i].lo = _mm256_fmadd_ps(alo[i], blo, acc[j][i].lo);
        acc[j][i].hi = _mm256_fmadd_ps(ahi[i], bhi, acc[j][i].hi);
      }
    }
  }
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) C[ldc * (jj + j) + ii + i] = reduce(acc[j][i]);
}

// Four weight rows against one token: eight accumulators and the token's
// two registers stay live while the weights stream from L1 (measured on
// SmolLM2 shapes: 4x1 beats 2x2, 2x3, 1x4 and 1x6, and i-outer beats j-outer).
LQ_AVX2 void run(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc, int64_t i0,
                 int64_t i1, int64_t j0, int64_t j1) {
  for (int64_t ii = i0; ii < i1; ii += 4)
    for (int64_t jj = j0; jj < j1; ++jj) tile<4, 1>(A, lda, B, ldb, k, C, ldc, ii, jj);
}

// ggml_exact.cpp's vexpf on 8 lanes. _mm512_scalef_ps(j, n) multiplies by
// 2^n rounding once; for n in [-126, 127] 2^n is a normal float and one
// multiplication does the same. Lanes outside (results that underflow or
// overflow, and NaN) are rare: the whole vector then takes the scalar
// definition, which handles them exactly.
LQ_AVX2 inline __m256 vexp(__m256 x) {
  const __m256 r = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
  const __m256 n = _mm256_sub_ps(z, r);
  const __m256 b =
      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(n, _mm256_set1_ps(-126.0f), _CMP_GE_OQ),
                                        _mm256_cmp_ps(n, _mm256_set1_ps(127.0f), _CMP_LE_OQ));
  if (_mm256_movemask_ps(in_range) != 0xff) {
    alignas(32) float v[8];
    _mm256_store_ps(v, x);
    for (float& e : v) e = vexpf(e);
    return _mm256_load_ps(v);
  }
  const __m256 u = _mm256_mul_ps(b, b);
  const __m256 p45 = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
  const __m256 p23 = _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
  const __m256 p01 = _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f));
  const __m256 j = _mm256_fmadd_ps(_mm256_fmadd_ps(p45, u, p23), u, p01);
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(j, _mm256_castsi256_ps(e));
}

LQ_AVX2 void round_to_half_impl(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i) {
    const __m128 v = _mm_set_ss(x[i]);
    x[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)));
  }
}

LQ_AVX2 void exp_minus_impl(const float* x, float sub, float* y, int64_t n) {
  const __m256 s = _mm256_set1_ps(sub);
  for (int64_t i = 0; i < n; i += 8) _mm256_storeu_ps(y + i, vexp(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
}

LQ_AVX2 void silu_mul_impl(const float* x, const float* u, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 sv = _mm256_div_ps(v, _mm256_add_ps(one, vexp(_mm256_sub_ps(_mm256_setzero_ps(), v))));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(sv, _mm256_loadu_ps(u + i)));
  }
}

}  // namespace

void tinyblas_f32(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                  int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  run(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1);
}
void round_to_half(float* x, int64_t n) { round_to_half_impl(x, n); }
void exp_minus(const float* x, float sub, float* y, int64_t n) { exp_minus_impl(x, sub, y, n); }
void silu_mul(const float* x, const float* u, float* out, int64_t n) { silu_mul_impl(x, u, out, n); }

}  // namespace libquant::cpu::ggml::avx2

#else

namespace libquant::cpu::ggml::avx2 {
void tinyblas_f32(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t, int64_t, int64_t, int64_t,
                  int64_t) {}
void round_to_half(float*, int64_t) {}
void exp_minus(const float*, float, float*, int64_t) {}
void silu_mul(const float*, const float*, float*, int64_t) {}
}  // namespace libquant::cpu::ggml::avx2

#endif
