// IQ2_XXS, IQ2_XS and IQ2_S quantizers: groups of 8 magnitudes snapped to
// E8-lattice codebooks (2 bits per coordinate), 4-bit scales per 32 (XXS) or
// 16 (XS, S) elements. XXS/XS store 7 sign bits with even parity and need
// importance weights (as in llama.cpp); S stores full sign bytes.
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "iq_codebook.hpp"
#include "iq_common.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "quant_search.hpp"

namespace libquant::gguf {
namespace {

constexpr int kMaxQ = 3;

using iq::fit;
using iq::split_signs_even;

int grid_index_or_throw(const Codebook& cb, const int8_t* L) { return iq::grid_index_or_throw(cb, L, 2); }
bool snap_group(const Codebook& cb, const float* xval, const float* waux, float id, float scale, int8_t* L) {
  return iq::snap_group(cb, xval, waux, id, scale, 2, kMaxQ, L);
}

void quantize_block_iq2_xxs(const float* xbl, BlockIQ2_XXS& y, const float* qwbl) {
  const Codebook& cb = Codebook::get(CodebookKind::IQ2_XXS);
  float scales[8], weight[32], xval[32], waux[32];
  int8_t L[32], Laux[32];
  uint8_t block_signs[4];
  uint32_t q2[16] = {};
  y.d = f32_to_f16(0.f);
  float max_scale = 0;
  const float sigma2 = sum_squares(xbl, kQK) / kQK;
  for (int ib = 0; ib < 8; ++ib) {
    const float* xb = xbl + 32 * ib;
    const float* qw = qwbl + 32 * ib;
    importance_weights(xb, qw, sigma2, 32, weight);
    iq::sqrt_weights(weight, 32, waux);
    for (int k = 0; k < 4; ++k) block_signs[k] = split_signs_even(xb + 8 * k, weight + 8 * k, xval + 8 * k);
    const float max = iq::max_of(xval, 32);
    if (max < kGroupMaxEps) {
      scales[ib] = 0;
      continue;
    }
    float scale = make_positive_scale(32, kMaxQ + 1, xval, reinterpret_cast<uint8_t*>(L), weight);
    const float eff_max = scale * kMaxQ;
    float best = 0;
    for (int is = -6; is <= 6; ++is) {
      const float id = (2 * kMaxQ - 1 + static_cast<float>(is) * 0.1f) / eff_max;
      const float this_scale = 1 / id;
      for (int k = 0; k < 4; ++k) snap_group(cb, xval + 8 * k, waux + 8 * k, id, this_scale, Laux + 8 * k);
      float sumqx, sumq2;
      fit(weight, xval, Laux, 32, sumqx, sumq2);
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        scale = sumqx / sumq2;
        best = scale * sumqx;
        std::memcpy(L, Laux, 32);
      }
    }
    if (scale > 0) {
      const float id = 1 / scale;
      for (int k = 0; k < 4; ++k) iq::snap_to_point(cb, xval + 8 * k, waux + 8 * k, id, scale, 2, kMaxQ, L + 8 * k);
      float sumqx, sumq2;
      fit(weight, xval, L, 32, sumqx, sumq2);
      if (sumq2 > 0) scale = sumqx / sumq2;
    }
    if (scale < 0) {  // never expected; keep the stored scale unsigned
      scale = -scale;
      for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
    }
    for (int k = 0; k < 4; ++k) {
      q2[2 * ib] |= static_cast<uint32_t>(grid_index_or_throw(cb, L + 8 * k)) << (8 * k);
      q2[2 * ib + 1] |= static_cast<uint32_t>(block_signs[k]) << (7 * k);
    }
    scales[ib] = scale;
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) {
    std::memset(y.qs, 0, sizeof y.qs);
    return;
  }
  const float d = max_scale / 31;
  y.d = f32_to_f16(d);
  const float id = 1 / d;
  for (int ib = 0; ib < 8; ++ib) {
    q2[2 * ib + 1] |= static_cast<uint32_t>(iq::odd_scale_code(id, scales[ib])) << 28;
  }
  std::memcpy(y.qs, q2, sizeof y.qs);
}

void quantize_block_iq2_xs(const float* xbl, BlockIQ2_XS& y, const float* qwbl) {
  const Codebook& cb = Codebook::get(CodebookKind::IQ2_XS);
  float scales[16], weight[16], xval[16], waux[16];
  int8_t L[16];
  uint8_t block_signs[2];
  uint16_t q2[32] = {};
  y.d = f32_to_f16(0.f);
  std::memset(y.scales, 0, sizeof y.scales);
  float max_scale = 0;
  const float sigma2 = sum_squares(xbl, kQK) / kQK;
  for (int ib = 0; ib < 16; ++ib) {
    const float* xb = xbl + 16 * ib;
    const float* qw = qwbl + 16 * ib;
    importance_weights(xb, qw, sigma2, 16, weight);
    iq::sqrt_weights(weight, 16, waux);
    for (int k = 0; k < 2; ++k) block_signs[k] = split_signs_even(xb + 8 * k, weight + 8 * k, xval + 8 * k);
    const float max = iq::max_of(xval, 16);
    if (max < kGroupMaxEps) {
      scales[ib] = 0;
      continue;
    }
    float scale = iq::search_scale(cb, {16, kMaxQ, 2, 9, 0.1f, true, false}, xval, weight, waux, max, L);
    if (scale < 0) {
      scale = -scale;
      for (int k = 0; k < 2; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
    }
    for (int k = 0; k < 2; ++k)
      q2[2 * ib + k] = static_cast<uint16_t>(grid_index_or_throw(cb, L + 8 * k) | (block_signs[k] << 9));
    scales[ib] = scale;
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) {
    std::memset(y.qs, 0, sizeof y.qs);
    return;
  }
  const float d = max_scale / 31;
  y.d = f32_to_f16(d);
  const float id = 1 / d;
  for (int ib = 0; ib < 16; ++ib) {
    const int l = iq::odd_scale_code(id, scales[ib]);
    if (ib % 2 == 0)
      y.scales[ib / 2] = static_cast<uint8_t>(l);
    else
      y.scales[ib / 2] = static_cast<uint8_t>(y.scales[ib / 2] | (l << 4));
  }
  std::memcpy(y.qs, q2, sizeof y.qs);
}

// IQ2_S: a 1024-point codebook (10-bit indices), full sign bytes, optional
// importance weights.
void quantize_block_iq2_s(const float* xbl, BlockIQ2_S& y, const float* qwbl) {
  constexpr float kEps = 1e-8f;
  const Codebook& cb = Codebook::get(CodebookKind::IQ2_S);
  float scales[16], weight[16], xval[16], waux[16];
  int8_t L[16];
  uint8_t block_signs[2];
  std::memset(&y, 0, sizeof y);
  float max_scale = 0;
  const float sigma2 = 2 * sum_squares(xbl, kQK) / kQK;
  for (int ib = 0; ib < 16; ++ib) {
    const float* xb = xbl + 16 * ib;
    importance_weights(xb, qwbl ? qwbl + 16 * ib : nullptr, sigma2, 16, weight, 0.25f * sigma2);
    iq::sqrt_weights(weight, 16, waux);
    for (int k = 0; k < 2; ++k) block_signs[k] = iq::split_signs(xb + 8 * k, xval + 8 * k);
    const float max = iq::max_of(xval, 16);
    if (max < kEps) {
      scales[ib] = 0;
      continue;
    }
    float scale = iq::search_scale(cb, {16, kMaxQ, 2, 9, 0.1f, true, false}, xval, weight, waux, max, L);
    if (scale < 0) {
      scale = -scale;
      for (uint8_t& b : block_signs) b = static_cast<uint8_t>(~b);
    }
    for (int k = 0; k < 2; ++k) {
      const int g = grid_index_or_throw(cb, L + 8 * k);
      const int i8 = 2 * ib + k;
      y.qs[i8] = static_cast<uint8_t>(g & 255);
      y.qh[i8 / 4] = static_cast<uint8_t>(y.qh[i8 / 4] | ((g >> 8) << 2 * (i8 % 4)));
      y.qs[kQK / 8 + i8] = block_signs[k];
    }
    scales[ib] = scale;
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) return;
  const float d = max_scale / 31;
  y.d = f32_to_f16(d * 0.9875f);  // llama.cpp's fudge factor
  const float id = 1 / d;
  for (int ib = 0; ib < 16; ++ib) {
    const int l = iq::odd_scale_code(id, scales[ib]);
    if (ib % 2 == 0)
      y.scales[ib / 2] = static_cast<uint8_t>(l);
    else
      y.scales[ib / 2] = static_cast<uint8_t>(y.scales[ib / 2] | (l << 4));
  }
}

}  // namespace

void quantize_iq2_xxs(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  iq::require_importance(qw, "IQ2_XXS");
  for_each_block<BlockIQ2_XXS, kQK>(src, dst, nrows, n_per_row, qw, quantize_block_iq2_xxs);
}
void quantize_iq2_xs(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  iq::require_importance(qw, "IQ2_XS");
  for_each_block<BlockIQ2_XS, kQK>(src, dst, nrows, n_per_row, qw, quantize_block_iq2_xs);
}
void quantize_iq2_s(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockIQ2_S, kQK>(src, dst, nrows, n_per_row, qw, quantize_block_iq2_s);
}

}  // namespace libquant::gguf
