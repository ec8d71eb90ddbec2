// Quantizers for the 32-element legacy blocks (Q4_0, Q4_1, Q5_0, Q5_1): the
// reference rounding llama-quantize uses without an importance matrix, and
// the weighted search it uses with one.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "libquant/core/half.hpp"
#include "quant_search.hpp"

namespace libquant::gguf {
namespace {

constexpr int kB = 32;

void min_max(const float* x, float& mn, float& mx) {
  mn = FLT_MAX;
  mx = -FLT_MAX;
  for (int j = 0; j < kB; ++j) {
    if (x[j] < mn) mn = x[j];
    if (x[j] > mx) mx = x[j];
  }
}

void pack_nibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4));
}

// Fifth bits of 32 levels into a little-endian u32: bit j is level j's bit 4.
void pack_high_bits(const uint8_t* L, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < kB; ++j) h |= ((L[j] & 0x10u) >> 4) << j;
  std::memcpy(qh, &h, 4);
}

// Reference Q4_0/Q5_0: d = max / -(2^(bits-1)), q = trunc(x/d + offset + 0.5).
template <typename Block, int kLevels>
void quantize_symmetric_ref(const float* x, Block* y, int64_t nb) {
  constexpr float kHalf = kLevels / 2.0f;  // 8 or 16: exact
  for (int64_t i = 0; i < nb; ++i, x += kB) {
    float amax;
    const float d = signed_absmax(x, kB, amax) / -kHalf;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    uint8_t L[kB];
    for (int j = 0; j < kB; ++j) {
      const float v = x[j] * id;
      const int8_t q = truncate_to_int8(v + (kHalf + 0.5f));  // truncation, as ggml
      L[j] = static_cast<uint8_t>(q < kLevels - 1 ? q : kLevels - 1);
    }
    pack_nibbles(L, y[i].qs);
    if constexpr (kLevels == 32) pack_high_bits(L, y[i].qh);
  }
}

// Reference Q4_1/Q5_1: d = (max - min) / (2^bits - 1), m = min.
template <typename Block, int kLevels>
void quantize_affine_ref(const float* x, Block* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kB) {
    float mn, mx;
    min_max(x, mn, mx);
    const float d = (mx - mn) / (kLevels - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(mn);
    uint8_t L[kB];
    for (int j = 0; j < kB; ++j) {
      const float v = (x[j] - mn) * id;
      if constexpr (kLevels == 16) {
        const int8_t q = truncate_to_int8(v + 0.5f);
        L[j] = static_cast<uint8_t>(q < 15 ? q : 15);
      } else {
        L[j] = truncate_to_uint8(v + 0.5f);  // Q5_1 has no clamp in ggml
      }
    }
    pack_nibbles(L, y[i].qs);
    if constexpr (kLevels == 32) pack_high_bits(L, y[i].qh);
  }
}

template <typename Block, int kLevels>
void quantize_symmetric_weighted(const float* x, Block* y, int64_t n_per_row, const float* qw) {
  const float sigma2 = sum_squares(x, n_per_row) / static_cast<float>(n_per_row);  // over the whole row
  for (int64_t ib = 0; ib < n_per_row / kB; ++ib) {
    float w[kB];
    int8_t L[kB];
    importance_weights(x + kB * ib, qw + kB * ib, sigma2, kB, w);
    const float d = make_symmetric_scale(kB, kLevels / 2, x + kB * ib, L, ErrorWeight::Square, w);
    y[ib].d = f32_to_f16(d);
    pack_nibbles(reinterpret_cast<const uint8_t*>(L), y[ib].qs);
    if constexpr (kLevels == 32) pack_high_bits(reinterpret_cast<const uint8_t*>(L), y[ib].qh);
  }
}

template <typename Block, int kLevels>
void quantize_affine_weighted(const float* x, Block* y, int64_t n_per_row, const float* qw) {
  const float sigma2 = sum_squares(x, n_per_row) / static_cast<float>(n_per_row);  // over the whole row
  for (int64_t ib = 0; ib < n_per_row / kB; ++ib) {
    float w[kB], min;
    uint8_t L[kB], Laux[kB];
    importance_weights(x + kB * ib, qw + kB * ib, sigma2, kB, w);
    const float d = make_affine_scale(kB, kLevels - 1, x + kB * ib, w, L, &min, Laux, -0.9f, 0.05f, 36, false);
    y[ib].d = f32_to_f16(d);
    y[ib].m = f32_to_f16(-min);
    pack_nibbles(L, y[ib].qs);
    if constexpr (kLevels == 32) pack_high_bits(L, y[ib].qh);
  }
}

// Row loop shared by the four types: reference path without weights,
// weighted search with them.
template <typename Block, auto Ref, auto Weighted>
void quantize_rows_legacy(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  auto* y = static_cast<Block*>(dst);
  const int64_t nb = n_per_row / kB;
  for (int64_t r = 0; r < nrows; ++r) {
    if (qw)
      Weighted(src + r * n_per_row, y + r * nb, n_per_row, qw);
    else
      Ref(src + r * n_per_row, y + r * nb, nb);
  }
}

}  // namespace

void quantize_q4_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_legacy<BlockQ4_0, quantize_symmetric_ref<BlockQ4_0, 16>, quantize_symmetric_weighted<BlockQ4_0, 16>>(
      src, dst, nrows, n_per_row, qw);
}
void quantize_q5_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_legacy<BlockQ5_0, quantize_symmetric_ref<BlockQ5_0, 32>, quantize_symmetric_weighted<BlockQ5_0, 32>>(
      src, dst, nrows, n_per_row, qw);
}
void quantize_q4_1(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_legacy<BlockQ4_1, quantize_affine_ref<BlockQ4_1, 16>, quantize_affine_weighted<BlockQ4_1, 16>>(
      src, dst, nrows, n_per_row, qw);
}
void quantize_q5_1(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_legacy<BlockQ5_1, quantize_affine_ref<BlockQ5_1, 32>, quantize_affine_weighted<BlockQ5_1, 32>>(
      src, dst, nrows, n_per_row, qw);
}

}  // namespace libquant::gguf
