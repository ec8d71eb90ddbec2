// Q2_K and Q3_K quantizers: 256-element super-blocks of 16-element
// sub-blocks with 4-bit (Q2_K scale + min) or signed 6-bit (Q3_K) scales.
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "libquant/core/half.hpp"
#include "quant_search.hpp"

namespace libquant::gguf {
namespace {

// 2-bit levels of 256 elements: byte 32h + l holds elements 128h + l + 32k at bits 2k.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] =
          static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

// Final 2-bit levels from the stored (f16-rounded) scale and min.
void requantize_q2_k(const float* x, const BlockQ2_K& y, uint8_t* L) {
  const float d_all = f16_to_f32(y.d), m_all = f16_to_f32(y.dmin);
  for (int j = 0; j < kQK / 16; ++j) {
    const float d = d_all * static_cast<float>(y.scales[j] & 0xF);
    if (!d) continue;
    const float dm = m_all * static_cast<float>(y.scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearest_int((x[16 * j + ii] + dm) / d);
      L[16 * j + ii] = static_cast<uint8_t>(l < 0 ? 0 : l > 3 ? 3 : l);
    }
  }
}

void quantize_block_q2_k_ref(const float* x, BlockQ2_K& y) {
  uint8_t L[kQK], Laux[16];
  float weights[16], mins[16], scales[16];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 16; ++j) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = make_affine_scale(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  constexpr float q4scale = 15.f;
  if (max_scale > 0) {
    const float iscale = q4scale / max_scale;
    for (int j = 0; j < 16; ++j) y.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
    y.d = f32_to_f16(max_scale / q4scale);
  } else {
    std::memset(y.scales, 0, 16);
    y.d = f32_to_f16(0.f);
  }
  if (max_min > 0) {
    const float iscale = q4scale / max_min;
    for (int j = 0; j < 16; ++j) y.scales[j] = static_cast<uint8_t>(y.scales[j] | (nearest_int(iscale * mins[j]) << 4));
    y.dmin = f32_to_f16(max_min / q4scale);
  } else {
    y.dmin = f32_to_f16(0.f);
  }
  requantize_q2_k(x, y, L);
  pack_2bit(L, y.qs);
}

void quantize_block_q2_k_weighted(const float* x, BlockQ2_K& y, const float* qw) {
  uint8_t L[kQK], Laux[16], Ls[16], Lm[16];
  float weight[16], mins[16], scales[16], sw[16] = {};
  const float sigma2 = sum_squares(x, kQK) / kQK;
  for (int j = 0; j < 16; ++j) {
    importance_weights(x + 16 * j, qw + 16 * j, sigma2, 16, weight);
    for (int l = 0; l < 16; ++l) sw[j] += weight[l];
    scales[j] = make_affine_scale(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
  }
  const float dm = make_positive_scale(16, 15, scales, Ls, sw);
  const float mm = make_positive_scale(16, 15, mins, Lm, sw);
  y.d = f32_to_f16(dm);
  y.dmin = f32_to_f16(mm);
  for (int j = 0; j < 16; ++j) y.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
  requantize_q2_k(x, y, L);
  pack_2bit(L, y.qs);
}

// Final 3-bit levels from the stored scales; high bits go to hmask (bit k of
// byte m is element 32k + m), low bits as Q2_K.
void finish_q3_k(const float* x, BlockQ3_K& y, int8_t* L) {
  const float d_all = f16_to_f32(y.d);
  for (int j = 0; j < 16; ++j) {
    const float d = d_all * static_cast<float>(unpack_scale_q3_k(j, y.scales));
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearest_int(x[16 * j + ii] / d);
      L[16 * j + ii] = static_cast<int8_t>((l < -4 ? -4 : l > 3 ? 3 : l) + 4);
    }
  }
  std::memset(y.hmask, 0, sizeof y.hmask);
  uint8_t Lu[kQK];
  for (int j = 0; j < kQK; ++j) {
    Lu[j] = static_cast<uint8_t>(L[j]);
    if (Lu[j] > 3) {
      y.hmask[j % 32] |= static_cast<uint8_t>(1u << (j / 32));
      Lu[j] -= 4;
    }
  }
  pack_2bit(Lu, y.qs);
}

void quantize_block_q3_k_ref(const float* x, BlockQ3_K& y) {
  int8_t L[kQK];
  float scales[16];
  float max_scale = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = make_symmetric_scale_refined(16, 4, x + 16 * j, L + 16 * j);
    const float scale = std::fabs(scales[j]);
    if (scale > amax) {
      amax = scale;
      max_scale = scales[j];
    }
  }
  std::memset(y.scales, 0, 12);
  if (max_scale) {
    const float iscale = -32.f / max_scale;
    for (int j = 0; j < 16; ++j) {
      int l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
      l = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
      pack_scale_q3_k(j, l, y.scales);
    }
    y.d = f32_to_f16(1 / iscale);
  } else {
    y.d = f32_to_f16(0.f);
  }
  finish_q3_k(x, y, L);
}

void quantize_block_q3_k_weighted(const float* x, BlockQ3_K& y, const float* qw) {
  int8_t L[kQK], Ls[16];
  float scales[16], weight[16], sw[16];
  const float sigma2 = 2 * sum_squares(x, kQK) / kQK;
  for (int j = 0; j < 16; ++j) {
    importance_weights(x + 16 * j, qw + 16 * j, sigma2, 16, weight);
    float sumw = 0;
    for (int l = 0; l < 16; ++l) sumw += weight[l];
    sw[j] = sumw;
    scales[j] = make_symmetric_scale(16, 4, x + 16 * j, L + 16 * j, ErrorWeight::Square, weight);
  }
  std::memset(y.scales, 0, 12);
  const float d_block = make_symmetric_scale(16, 32, scales, Ls, ErrorWeight::Square, sw);
  for (int j = 0; j < 16; ++j) pack_scale_q3_k(j, Ls[j], y.scales);
  y.d = f32_to_f16(d_block);
  finish_q3_k(x, y, L);
}

}  // namespace

// Weighted search when importance is given, reference otherwise or when the
// weighted search produced a non-finite scale (see half_is_finite).
void quantize_q2_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockQ2_K, kQK>(src, dst, nrows, n_per_row, qw, [](const float* x, BlockQ2_K& b, const float* w) {
    if (w) quantize_block_q2_k_weighted(x, b, w);
    if (!w || !half_is_finite(b.d) || !half_is_finite(b.dmin)) quantize_block_q2_k_ref(x, b);
  });
}

void quantize_q3_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockQ3_K, kQK>(src, dst, nrows, n_per_row, qw, [](const float* x, BlockQ3_K& b, const float* w) {
    if (w) quantize_block_q3_k_weighted(x, b, w);
    if (!w || !half_is_finite(b.d)) quantize_block_q3_k_ref(x, b);
  });
}

}  // namespace libquant::gguf
