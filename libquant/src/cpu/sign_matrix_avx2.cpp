#include "sign_matrix_avx2.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>

namespace libquant::cpu::simd {
namespace {

#define LQ_AVX2 __attribute__((target("avx2")))

// The 8 signs of one byte as f32 sign-bit masks: lane i gets bit i of `byte`
// moved to bit 31, so XOR with x negates exactly the -1 entries.
LQ_AVX2 inline __m256 byte_masks(uint32_t byte) {
  const __m256i shifts = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
  const __m256i m = _mm256_sllv_epi32(_mm256_set1_epi32(static_cast<int>(byte)), shifts);
  return _mm256_castsi256_ps(_mm256_and_si256(m, _mm256_set1_epi32(static_cast<int>(0x80000000u))));
}

LQ_AVX2 inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 p = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(p, _mm_shuffle_ps(p, p, 0x55)));
}

// The entries past the last whole byte of the row (cols % 8 of them).
inline float tail_dot(const uint8_t* row, const float* x, int64_t from, int64_t cols) {
  float s = 0;
  for (int64_t c = from; c < cols; ++c) s += (row[c / 8] >> (c % 8)) & 1u ? -x[c] : x[c];
  return s;
}

// One token: four accumulators so consecutive bytes do not wait on each other.
LQ_AVX2 float dot_one(const uint8_t* row, const float* x, int64_t cols) {
  const int64_t nb = cols / 8;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    a0 = _mm256_add_ps(a0, _mm256_xor_ps(_mm256_loadu_ps(x + 8 * b), byte_masks(row[b])));
    a1 = _mm256_add_ps(a1, _mm256_xor_ps(_mm256_loadu_ps(x + 8 * b + 8), byte_masks(row[b + 1])));
    a2 = _mm256_add_ps(a2, _mm256_xor_ps(_mm256_loadu_ps(x + 8 * b + 16), byte_masks(row[b + 2])));
    a3 = _mm256_add_ps(a3, _mm256_xor_ps(_mm256_loadu_ps(x + 8 * b + 24), byte_masks(row[b + 3])));
  }
  for (; b < nb; ++b) a0 = _mm256_add_ps(a0, _mm256_xor_ps(_mm256_loadu_ps(x + 8 * b), byte_masks(row[b])));
  return hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + tail_dot(row, x, nb * 8, cols);
}

// Four tokens share each decoded mask (one chain per token).
LQ_AVX2 void dot_four(const uint8_t* row, const float* x, int64_t ldx, int64_t cols, float* out) {
  const int64_t nb = cols / 8;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t b = 0; b < nb; ++b) {
    const __m256 m = byte_masks(row[b]);
    const float* xb = x + 8 * b;
    a0 = _mm256_add_ps(a0, _mm256_xor_ps(_mm256_loadu_ps(xb), m));
    a1 = _mm256_add_ps(a1, _mm256_xor_ps(_mm256_loadu_ps(xb + ldx), m));
    a2 = _mm256_add_ps(a2, _mm256_xor_ps(_mm256_loadu_ps(xb + 2 * ldx), m));
    a3 = _mm256_add_ps(a3, _mm256_xor_ps(_mm256_loadu_ps(xb + 3 * ldx), m));
  }
  const __m256 acc[4] = {a0, a1, a2, a3};
  for (int t = 0; t < 4; ++t) out[t] = hsum(acc[t]) + tail_dot(row, x + t * ldx, nb * 8, cols);
}

}  // namespace

LQ_AVX2 void sign_gemm_rows_avx2(const SignMatrixView& s, const float* x, int64_t tokens, float* y, int64_t r0,
                                 int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const auto* row = reinterpret_cast<const uint8_t*>(s.bits + r * s.words_per_row);
    int64_t t = 0;
    for (; t + 4 <= tokens; t += 4) {
      float out[4];
      dot_four(row, x + t * s.cols, s.cols, s.cols, out);
      for (int i = 0; i < 4; ++i) y[(t + i) * s.rows + r] = out[i];
    }
    for (; t < tokens; ++t) y[t * s.rows + r] = dot_one(row, x + t * s.cols, s.cols);
  }
}

}  // namespace libquant::cpu::simd
#endif
