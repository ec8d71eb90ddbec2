#include "int8_gemm_simd.hpp"

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics pass _mm256_undefined_*() as the masked-off
// source of casts and shuffles, which -Wuninitialized reports at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace libquant::cpu::simd {
namespace {

#define LQ_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define LQ_AVX2 __attribute__((target("avx2")))

// Register tiles: MR activation rows x NR weight rows per step. A partial
// tile repeats its last valid row (same memory, results discarded), so the
// inner loop never branches on the edge.
template <int R>
void tile_rows(const int8_t* base, int64_t first, int64_t valid, int64_t K, const int8_t* (&rows)[R]) {
  for (int i = 0; i < R; ++i) rows[i] = base + (first + std::min<int64_t>(i, valid - 1)) * K;
}

// Activation rows are walked in blocks that stay in L2 while every weight
// tile of the thread's range passes over them.
constexpr int64_t kRowBlock = 64;

// Sum of the 16 lanes.
LQ_VNNI inline int32_t hsum_epi32(__m512i v) {
  const __m256i h = _mm512_castsi512_si256(_mm512_add_epi32(v, _mm512_shuffle_i64x2(v, v, 0x4e)));
  const __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  const __m128i p = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4e));
  return _mm_cvtsi128_si32(_mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1)));
}

// vpdpbusd multiplies unsigned by signed bytes: a + 128 is unsigned, and the
// extra 128 * sum(b) is taken off at the end (exact).
template <int MR, int NR>
LQ_VNNI void vnni_tile(const int8_t* const (&ap)[MR], const int8_t* const (&bp)[NR], int64_t K,
                       int32_t (&out)[MR][NR]) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) {
    __m512i av[MR], bv[NR];
    for (int i = 0; i < MR; ++i) av[i] = _mm512_xor_si512(_mm512_loadu_si512(ap[i] + k), flip);
    for (int j = 0; j < NR; ++j) bv[j] = _mm512_loadu_si512(bp[j] + k);
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av[i], bv[j]);
  }
  // Masked tail: b's missing bytes load as 0, so they add nothing. Kept out of
  // the main loop: masked loads there measured 1.7x slower (16 vs 27 ms at 128x4096x4096).
  if (k < K) {
    const __mmask64 m = (~__mmask64{0}) >> (64 - (K - k));
    __m512i av[MR], bv[NR];
    for (int i = 0; i < MR; ++i) av[i] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, ap[i] + k), flip);
    for (int j = 0; j < NR; ++j) bv[j] = _mm512_maskz_loadu_epi8(m, bp[j] + k);
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av[i], bv[j]);
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i][j] = hsum_epi32(acc[i][j]);
}

// Sign-extended to int16 and multiplied pairwise into int32 (vpmaddwd): no
// saturation, unlike vpmaddubsw on -128 * -128 pairs.
template <int MR, int NR>
LQ_AVX2 void avx2_tile(const int8_t* const (&ap)[MR], const int8_t* const (&bp)[NR], int64_t K,
                       int32_t (&out)[MR][NR]) {
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_si256();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256i av[MR], bv[NR];
    for (int i = 0; i < MR; ++i)
      av[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ap[i] + k)));
    for (int j = 0; j < NR; ++j)
      bv[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bp[j] + k)));
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(av[i], bv[j]));
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      alignas(32) int32_t lanes[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[i][j]);
      int32_t s = 0;
      for (int32_t v : lanes) s += v;
      for (int64_t t = k; t < K; ++t) s += int32_t{ap[i][t]} * int32_t{bp[j][t]};
      out[i][j] = s;
    }
}

// Shared blocking for both instruction sets; `Tile` computes one MR x NR tile
// of raw dot products, `correction[j]` is subtracted from output column j.
template <int MR, int NR, typename Tile>
inline void gemm_blocked(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, int64_t n0,
                         int64_t n1, const std::vector<int32_t>& correction, Tile tile) {
  for (int64_t m0 = 0; m0 < M; m0 += kRowBlock) {
    const int64_t m_end = std::min(M, m0 + kRowBlock);
    for (int64_t n = n0; n < n1; n += NR) {
      const int64_t nn = std::min<int64_t>(NR, n1 - n);
      const int8_t* bp[NR];
      tile_rows<NR>(b, n, nn, K, bp);
      for (int64_t m = m0; m < m_end; m += MR) {
        const int64_t mm = std::min<int64_t>(MR, m_end - m);
        const int8_t* ap[MR];
        tile_rows<MR>(a, m, mm, K, ap);
        int32_t out[MR][NR];
        tile(ap, bp, K, out);
        for (int64_t i = 0; i < mm; ++i)
          for (int64_t j = 0; j < nn; ++j) c[(m + i) * N + n + j] = out[i][j] - correction[n + j - n0];
      }
    }
  }
}

}  // namespace

void gemm_columns_avx512vnni(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, int64_t n0,
                             int64_t n1) {
  std::vector<int32_t> correction(static_cast<size_t>(n1 - n0));
  for (int64_t n = n0; n < n1; ++n) {
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) s += b[n * K + k];
    correction[n - n0] = 128 * s;
  }
  gemm_blocked<4, 4>(a, b, c, M, N, K, n0, n1, correction,
                     [](const int8_t* const(&ap)[4], const int8_t* const(&bp)[4], int64_t k, int32_t(&o)[4][4]) {
                       vnni_tile<4, 4>(ap, bp, k, o);
                     });
}

void gemm_columns_avx2(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, int64_t n0,
                       int64_t n1) {
  const std::vector<int32_t> none(static_cast<size_t>(n1 - n0), 0);
  gemm_blocked<2, 4>(a, b, c, M, N, K, n0, n1, none,
                     [](const int8_t* const(&ap)[2], const int8_t* const(&bp)[4], int64_t k, int32_t(&o)[2][4]) {
                       avx2_tile<2, 4>(ap, bp, k, o);
                     });
}

}  // namespace libquant::cpu::simd
#endif
