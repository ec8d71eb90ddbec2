#include "quant_search_x8.hpp"

#include "cpu_features.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace libquant::gguf {
namespace {

void affine_scalar(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, float* scales,
                   float rmin, float rdelta, int nstep, bool use_mad) {
  uint8_t Laux[32];
  for (int g = 0; g < 8; ++g)
    scales[g] = make_affine_scale(n, nmax, x + g * n, w ? w + g * n : nullptr, L + g * n, the_min + g, Laux, rmin,
                                  rdelta, nstep, use_mad);
}

void symmetric_scalar(int n, int nmax, const float* x, int8_t* L, const float* qw, float* scales) {
  for (int g = 0; g < 8; ++g)
    scales[g] = make_symmetric_scale(n, nmax, x + g * n, L + g * n, ErrorWeight::Square, qw ? qw + g * n : nullptr);
}

#if defined(__x86_64__)
#define LQ_AVX2 __attribute__((target("avx2")))

// ggml's nearest_int on 8 lanes: the 1.5*2^23 trick, bit for bit.
LQ_AVX2 inline __m256i nearest_int8(__m256 v) {
  const __m256 t = _mm256_add_ps(v, _mm256_set1_ps(12582912.f));
  const __m256i i = _mm256_castps_si256(t);
  return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

LQ_AVX2 inline __m256i clamp8(__m256i v, int lo, int hi) {
  return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

LQ_AVX2 inline __m256 abs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

LQ_AVX2 inline __m256 err8(__m256 d, bool use_mad) { return use_mad ? abs8(d) : _mm256_mul_ps(d, d); }

// Levels of 8 groups at inverse scales `iscale` (symmetric search), with the
// weighted sums of the least-squares fit.
LQ_AVX2 inline void symmetric_levels(int n, int nmax, const __m256* xv, const __m256* wv, __m256 iscale, __m256i* out,
                                     __m256& sumlx, __m256& suml2) {
  sumlx = suml2 = _mm256_setzero_ps();
  for (int i = 0; i < n; ++i) {
    out[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, xv[i])), -nmax, nmax - 1);
    const __m256 l = _mm256_cvtepi32_ps(out[i]);
    sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(wv[i], xv[i]), l));
    suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(wv[i], l), l));
  }
}

// Column i of the 8 groups: lane g = x[g*n + i].
LQ_AVX2 inline __m256 column(const float* x, int n, int i) {
  return _mm256_setr_ps(x[i], x[n + i], x[2 * n + i], x[3 * n + i], x[4 * n + i], x[5 * n + i], x[6 * n + i],
                        x[7 * n + i]);
}

LQ_AVX2 void affine_avx2(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, float* scales,
                         float rmin, float rdelta, int nstep, bool use_mad) {
  __m256 xv[32] = {}, wv[32] = {};
  __m256i Lv[32], La[32];
  for (int i = 0; i < n; ++i) {
    xv[i] = column(x, n, i);
    wv[i] = w ? column(w, n, i) : _mm256_mul_ps(xv[i], xv[i]);
  }
  __m256 mn = xv[0], mx = xv[0];
  __m256 sum_w = wv[0];
  __m256 sum_x = _mm256_mul_ps(sum_w, xv[0]);
  for (int i = 1; i < n; ++i) {
    mn = _mm256_min_ps(xv[i], mn);
    mx = _mm256_max_ps(xv[i], mx);
    sum_w = _mm256_add_ps(sum_w, wv[i]);
    sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wv[i], xv[i]));
  }
  const __m256 zero = _mm256_setzero_ps();
  mn = _mm256_blendv_ps(mn, zero, _mm256_cmp_ps(mn, zero, _CMP_GT_OQ));
  const __m256 degenerate = _mm256_cmp_ps(mx, mn, _CMP_LE_OQ);
  const __m256 range = _mm256_sub_ps(mx, mn);
  __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(nmax)), range);
  __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
  __m256 best_mad = zero;
  for (int i = 0; i < n; ++i) {
    Lv[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xv[i], mn))), 0, nmax);
    const __m256 d = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(Lv[i])), mn), xv[i]);
    best_mad = _mm256_add_ps(best_mad, _mm256_mul_ps(wv[i], err8(d, use_mad)));
  }
  for (int is = 0; is <= nstep; ++is) {
    // `mn` moves when a candidate wins, and later candidates use the new one.
    const float num = rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax);
    iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(mx, mn));
    __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < n; ++i) {
      La[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xv[i], mn))), 0, nmax);
      const __m256 l = _mm256_cvtepi32_ps(La[i]);
      const __m256 wl = _mm256_mul_ps(wv[i], l);
      sum_l = _mm256_add_ps(sum_l, wl);
      sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, l));
      sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xv[i]));
    }
    const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
    const __m256 d_pos = _mm256_cmp_ps(D, zero, _CMP_GT_OQ);
    if (_mm256_movemask_ps(d_pos) == 0) continue;
    __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
    __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
    const __m256 min_pos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
    this_min = _mm256_blendv_ps(this_min, zero, min_pos);
    this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), min_pos);
    __m256 mad = zero;
    for (int i = 0; i < n; ++i) {
      const __m256 d =
          _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(La[i])), this_min), xv[i]);
      mad = _mm256_add_ps(mad, _mm256_mul_ps(wv[i], err8(d, use_mad)));
    }
    const __m256 better = _mm256_andnot_ps(degenerate, _mm256_and_ps(d_pos, _mm256_cmp_ps(mad, best_mad, _CMP_LT_OQ)));
    if (_mm256_movemask_ps(better) == 0) continue;
    const __m256i bi = _mm256_castps_si256(better);
    for (int i = 0; i < n; ++i) Lv[i] = _mm256_blendv_epi8(Lv[i], La[i], bi);
    best_mad = _mm256_blendv_ps(best_mad, mad, better);
    scale = _mm256_blendv_ps(scale, this_scale, better);
    mn = _mm256_blendv_ps(mn, this_min, better);
  }
  // Groups with max <= min: all levels 0, scale 0 (the scalar early return).
  scale = _mm256_blendv_ps(scale, zero, degenerate);
  const __m256i deg_i = _mm256_castps_si256(degenerate);
  alignas(32) int32_t lanes[8];
  for (int i = 0; i < n; ++i) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_andnot_si256(deg_i, Lv[i]));
    for (int g = 0; g < 8; ++g) L[g * n + i] = static_cast<uint8_t>(lanes[g]);
  }
  const __m256 neg_min = _mm256_xor_ps(mn, _mm256_set1_ps(-0.0f));
  _mm256_storeu_ps(the_min, neg_min);
  _mm256_storeu_ps(scales, scale);
}

LQ_AVX2 void symmetric_avx2(int n, int nmax, const float* x, int8_t* L, const float* qw, float* scales) {
  __m256 xv[32], wv[32];
  __m256i Lv[32], La[32];
  const __m256 zero = _mm256_setzero_ps();
  __m256 mx = zero, amax = zero;
  for (int i = 0; i < n; ++i) {
    xv[i] = column(x, n, i);
    wv[i] = qw ? column(qw, n, i) : _mm256_mul_ps(xv[i], xv[i]);
    const __m256 ax = abs8(xv[i]);
    const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
    amax = _mm256_blendv_ps(amax, ax, gt);
    mx = _mm256_blendv_ps(mx, xv[i], gt);
  }
  const __m256 all_zero = _mm256_cmp_ps(amax, _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
  __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(-nmax)), mx);
  __m256 sumlx, suml2;
  symmetric_levels(n, nmax, xv, wv, iscale, Lv, sumlx, suml2);
  const __m256 l2_nonzero = _mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ);
  __m256 scale = _mm256_and_ps(_mm256_div_ps(sumlx, suml2), l2_nonzero);
  __m256 best = _mm256_mul_ps(scale, sumlx);
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float num = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is));
    iscale = _mm256_div_ps(_mm256_set1_ps(num), mx);
    symmetric_levels(n, nmax, xv, wv, iscale, La, sumlx, suml2);
    const __m256 better =
        _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_GT_OQ),
                      _mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2), _CMP_GT_OQ));
    if (_mm256_movemask_ps(better) == 0) continue;
    const __m256i bi = _mm256_castps_si256(better);
    for (int i = 0; i < n; ++i) Lv[i] = _mm256_blendv_epi8(Lv[i], La[i], bi);
    const __m256 s = _mm256_div_ps(sumlx, suml2);
    scale = _mm256_blendv_ps(scale, s, better);
    best = _mm256_blendv_ps(best, _mm256_mul_ps(s, sumlx), better);
  }
  scale = _mm256_blendv_ps(scale, zero, all_zero);
  const __m256i zi = _mm256_castps_si256(all_zero);
  const __m256i off = _mm256_set1_epi32(nmax);
  alignas(32) int32_t lanes[8];
  for (int i = 0; i < n; ++i) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_andnot_si256(zi, _mm256_add_epi32(Lv[i], off)));
    for (int g = 0; g < 8; ++g) L[g * n + i] = static_cast<int8_t>(lanes[g]);
  }
  _mm256_storeu_ps(scales, scale);
}

bool has_avx2() { return use_avx2(); }
#endif

}  // namespace

void make_affine_scale_x8(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, float* scales,
                          float rmin, float rdelta, int nstep, bool use_mad) {
#if defined(__x86_64__)
  if (n <= 32 && nstep >= 1 && has_avx2())
    return affine_avx2(n, nmax, x, w, L, the_min, scales, rmin, rdelta, nstep, use_mad);
#endif
  affine_scalar(n, nmax, x, w, L, the_min, scales, rmin, rdelta, nstep, use_mad);
}

void make_symmetric_scale_x8(int n, int nmax, const float* x, int8_t* L, const float* qw, float* scales) {
#if defined(__x86_64__)
  if (n <= 32 && has_avx2()) return symmetric_avx2(n, nmax, x, L, qw, scales);
#endif
  symmetric_scalar(n, nmax, x, L, qw, scales);
}

}  // namespace libquant::gguf
