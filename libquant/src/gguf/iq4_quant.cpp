// IQ4_NL (32-element blocks) and IQ4_XS (256-element super-blocks with 6-bit
// sub-block scales) quantizers over the non-uniform kIq4nlValues levels.
// llama-quantize always runs the 15-trial scale search (ntry = 7), with or
// without importance weights.
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "libquant/core/half.hpp"
#include "quant_search.hpp"

namespace libquant::gguf {
namespace {

constexpr int kNtry = 7;
constexpr int kSub = 32;

// Best scale for one 32-element sub-block; fills L with level indices.
float search_subblock_scale(const float* xb, const float* weight, uint8_t* Lb) {
  const int8_t* values = kIq4nlValues;
  float amax;
  const float max = signed_absmax(xb, kSub, amax);
  if (amax < kGroupMaxEps) return 0;
  float d = -max / values[0];
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < kSub; ++j) {
    const int l = nearest_table_index(16, values, id * xb[j]);
    Lb[j] = static_cast<uint8_t>(l);
    const auto q = static_cast<float>(values[l]);
    sumqx += weight[j] * q * xb[j];
    sumq2 += weight[j] * q * q;
  }
  // All-zero weights (values whose squares underflow) would give 0/0 here;
  // llama.cpp then fails validation, we keep a zero scale instead.
  d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
  float best = d * sumqx;
  for (int itry = -kNtry; itry <= kNtry; ++itry) {
    id = static_cast<float>(itry + values[0]) / max;
    sumqx = sumq2 = 0;
    for (int j = 0; j < kSub; ++j) {
      const auto q = static_cast<float>(values[nearest_table_index(16, values, id * xb[j])]);
      sumqx += weight[j] * q * xb[j];
      sumq2 += weight[j] * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

float super_block_sigma2(const float* x, int n) { return sum_squares(x, n) * (2.f / static_cast<float>(n)); }

void pack_levels(const uint8_t* L, uint8_t* q4, int n) {
  for (int i = 0; i < n / 32; ++i)
    for (int j = 0; j < 16; ++j) q4[16 * i + j] = static_cast<uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

void quantize_block_iq4_nl(const float* x, BlockIQ4_NL& y, const float* qw) {
  uint8_t L[kSub];
  float weight[kSub];
  importance_weights(x, qw, super_block_sigma2(x, kSub), kSub, weight);
  const float scale = search_subblock_scale(x, weight, L);
  y.d = f32_to_f16(scale);
  const float id = scale ? 1 / scale : 0;
  for (int j = 0; j < kSub; ++j) L[j] = static_cast<uint8_t>(nearest_table_index(16, kIq4nlValues, id * x[j]));
  pack_levels(L, y.qs, kSub);
}

void quantize_block_iq4_xs(const float* x, BlockIQ4_XS& y, const float* qw) {
  uint8_t L[kQK];
  float weight[kSub], scales[kQK / kSub];
  const float sigma2 = super_block_sigma2(x, kQK);
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < kQK / kSub; ++ib) {
    importance_weights(x + ib * kSub, qw ? qw + ib * kSub : nullptr, sigma2, kSub, weight);
    scales[ib] = search_subblock_scale(x + ib * kSub, weight, L + ib * kSub);
    if (std::fabs(scales[ib]) > amax_scale) {
      amax_scale = std::fabs(scales[ib]);
      max_scale = scales[ib];
    }
  }
  y.scales_h = 0;
  std::memset(y.scales_l, 0, sizeof y.scales_l);
  const float d = -max_scale / 32;
  y.d = f32_to_f16(d);
  const float id = d ? 1 / d : 0.f;
  for (int ib = 0; ib < kQK / kSub; ++ib) {
    int l = nearest_int(id * scales[ib]);
    l = l < -32 ? -32 : l > 31 ? 31 : l;
    const float dl = d * static_cast<float>(l);
    const float idl = dl ? 1 / dl : 0.f;
    for (int j = 0; j < kSub; ++j)
      L[ib * kSub + j] = static_cast<uint8_t>(nearest_table_index(16, kIq4nlValues, idl * x[ib * kSub + j]));
    l += 32;
    if (ib % 2 == 0)
      y.scales_l[ib / 2] = static_cast<uint8_t>(l & 0xf);
    else
      y.scales_l[ib / 2] |= static_cast<uint8_t>((l & 0xf) << 4);
    y.scales_h = static_cast<uint16_t>(y.scales_h | ((l >> 4) << 2 * (ib % 8)));
  }
  pack_levels(L, y.qs, kQK);
}

}  // namespace

void quantize_iq4_nl(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockIQ4_NL, kSub>(src, dst, nrows, n_per_row, qw, quantize_block_iq4_nl);
}

void quantize_iq4_xs(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<BlockIQ4_XS, kQK>(src, dst, nrows, n_per_row, qw, quantize_block_iq4_xs);
}

}  // namespace libquant::gguf
