// IQ3_XXS and IQ3_S quantizers: groups of 4 magnitudes on the D4-lattice
// codebooks (3 bits per coordinate, 256 or 512 points), 4-bit scales per 32
// elements. IQ3_XXS stores even-parity signs next to the scales; IQ3_S
// stores full sign bytes and a 9th index bit. Importance weights optional
// (x^2 without them).
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "iq_codebook.hpp"
#include "iq_common.hpp"
#include "libquant/core/half.hpp"

namespace libquant::gguf {
namespace {

constexpr int kMaxQ = 8;
constexpr int kBits = 3;
constexpr float kEpsIq3xxs = 1e-8f;

void block_weights(const float* xb, const float* qw, float sigma2, float* weight, float* waux) {
  importance_weights(xb, qw, sigma2, 32, weight);
  iq::sqrt_weights(weight, 32, waux);
}

float block_sigma2(const float* xbl) { return 2 * sum_squares(xbl, kQK) / kQK; }

void quantize_block_iq3_xxs(const float* xbl, BlockIQ3_XXS& y, const float* qwbl) {
  const Codebook& cb = Codebook::get(CodebookKind::IQ3_XXS);
  float scales[8], weight[32], xval[32], waux[32];
  int8_t L[32];
  uint8_t block_signs[4];
  uint8_t q3[96] = {};
  uint32_t scales_and_signs[8] = {};
  y.d = f32_to_f16(0.f);
  float max_scale = 0;
  const float sigma2 = block_sigma2(xbl);
  for (int ib = 0; ib < 8; ++ib) {
    const float* xb = xbl + 32 * ib;
    block_weights(xb, qwbl ? qwbl + 32 * ib : nullptr, sigma2, weight, waux);
    for (int k = 0; k < 4; ++k) block_signs[k] = iq::split_signs_even(xb + 8 * k, weight + 8 * k, xval + 8 * k);
    const float max = iq::max_of(xval, 32);
    if (max < kEpsIq3xxs) {
      scales[ib] = 0;
      continue;
    }
    float scale = iq::search_scale(cb, {32, kMaxQ, kBits, 15, 0.2f, true, false}, xval, weight, waux, max, L);
    if (scale < 0) {
      scale = -scale;
      for (uint8_t& s : block_signs) s = static_cast<uint8_t>(~s & 127);
    }
    for (int k = 0; k < 8; ++k) q3[8 * ib + k] = static_cast<uint8_t>(iq::grid_index_or_throw(cb, L + 4 * k, kBits));
    scales_and_signs[ib] =
        block_signs[0] | (block_signs[1] << 7) | (block_signs[2] << 14) | (static_cast<uint32_t>(block_signs[3]) << 21);
    scales[ib] = scale;
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) {
    std::memset(y.qs, 0, sizeof y.qs);
    return;
  }
  const float d = max_scale / 31;
  y.d = f32_to_f16(d * 1.0125f);  // llama.cpp's fudge factor
  const float id = 1 / d;
  for (int ib = 0; ib < 8; ++ib)
    scales_and_signs[ib] |= static_cast<uint32_t>(iq::odd_scale_code(id, scales[ib])) << 28;
  std::memcpy(y.qs, q3, 64);
  std::memcpy(y.qs + 64, scales_and_signs, 32);
}

void quantize_block_iq3_s(const float* xbl, BlockIQ3_S& y, const float* qwbl) {
  const Codebook& cb = Codebook::get(CodebookKind::IQ3_S);
  float scales[8], weight[32], xval[32], waux[32];
  int8_t L[32];
  uint8_t block_signs[4];
  std::memset(&y, 0, sizeof y);
  uint8_t* qs = y.qs;
  uint8_t* signs = y.signs;
  float max_scale = 0;
  const float sigma2 = block_sigma2(xbl);
  for (int ib = 0; ib < 8; ++ib) {
    const float* xb = xbl + 32 * ib;
    block_weights(xb, qwbl ? qwbl + 32 * ib : nullptr, sigma2, weight, waux);
    for (int k = 0; k < 4; ++k) block_signs[k] = iq::split_signs(xb + 8 * k, xval + 8 * k);
    const float max = iq::max_of(xval, 32);
    if (!max) {
      // llama.cpp does not advance qs/signs for an all-zero block, so later
      // blocks shift down; reproduced for identical files.
      scales[ib] = 0;
      continue;
    }
    float scale = iq::search_scale(cb, {32, kMaxQ, kBits, 9, 0.2f, false, true}, xval, weight, waux, max, L);
    if (scale < 0) {
      scale = -scale;
      for (uint8_t& s : block_signs) s = static_cast<uint8_t>(~s);
    }
    for (int k = 0; k < 8; ++k) {
      const int g = iq::grid_index_or_throw(cb, L + 4 * k, kBits);
      qs[k] = static_cast<uint8_t>(g & 255);
      y.qh[(ib * 8 + k) / 8] = static_cast<uint8_t>(y.qh[(ib * 8 + k) / 8] | ((g >> 8) << ((ib * 8 + k) % 8)));
    }
    qs += 8;
    std::memcpy(signs, block_signs, 4);
    signs += 4;
    scales[ib] = scale;
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) return;
  const float d = max_scale / 31;
  y.d = f32_to_f16(d * 1.033f);  // llama.cpp's fudge factor
  const float id = 1 / d;
  for (int ib = 0; ib < 8; ib += 2)
    y.scales[ib / 2] =
        static_cast<uint8_t>(iq::odd_scale_code(id, scales[ib]) | (iq::odd_scale_code(id, scales[ib + 1]) << 4));
}

}  // namespace

void quantize_iq3_xxs(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockIQ3_XXS, kQK>(src, dst, nrows, n_per_row, qw, quantize_block_iq3_xxs);
}
void quantize_iq3_s(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockIQ3_S, kQK>(src, dst, nrows, n_per_row, qw, quantize_block_iq3_s);
}

}  // namespace libquant::gguf
