// Q4_K, Q5_K (8 sub-blocks of 32 with 6-bit scale and min) and Q6_K (16
// sub-blocks of 16 with int8 scales) quantizers.
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "libquant/core/half.hpp"
#include "quant_search.hpp"
#include "quant_search_x8.hpp"

namespace libquant::gguf {
namespace {

// Q4_K and Q5_K share everything but the level count (15 or 31), the
// reference search parameters, and how the levels are packed.
template <typename Block, int kNmax>
struct AffineK {
  static void pack(const uint8_t* L, Block& y) {
    if constexpr (kNmax == 15) {
      uint8_t* q = y.qs;
      for (int j = 0; j < kQK; j += 64, q += 32)
        for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    } else {
      std::memset(y.qh, 0, sizeof y.qh);
      uint8_t* ql = y.qs;
      uint8_t m1 = 1, m2 = 2;
      for (int n = 0; n < kQK; n += 64, ql += 32) {
        for (int j = 0; j < 32; ++j) {
          int l1 = L[n + j], l2 = L[n + j + 32];
          if (l1 > 15) {
            l1 -= 16;
            y.qh[j] |= m1;
          }
          if (l2 > 15) {
            l2 -= 16;
            y.qh[j] |= m2;
          }
          ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
        }
        m1 = static_cast<uint8_t>(m1 << 2);
        m2 = static_cast<uint8_t>(m2 << 2);
      }
    }
  }

  // Final levels from the stored (f16-rounded) super-scales and 6-bit codes.
  static void finish(const float* x, Block& y, uint8_t* L) {
    const float d_all = f16_to_f32(y.d), m_all = f16_to_f32(y.dmin);
    for (int j = 0; j < kQK / 32; ++j) {
      uint8_t sc, m;
      unpack_scale_min_k4(j, y.scales, &sc, &m);
      const float d = d_all * static_cast<float>(sc);
      if (!d) continue;
      const float dm = m_all * static_cast<float>(m);
      for (int ii = 0; ii < 32; ++ii) {
        const int l = nearest_int((x[32 * j + ii] + dm) / d);
        L[32 * j + ii] = static_cast<uint8_t>(l < 0 ? 0 : l > kNmax ? kNmax : l);
      }
    }
    pack(L, y);
  }

  static void ref(const float* x, Block& y) {
    uint8_t L[kQK];
    float weights[kQK], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      const float av_x = std::sqrt(sum_squares(x + 32 * j, 32) / 32);
      for (int l = 0; l < 32; ++l) weights[32 * j + l] = av_x + std::fabs(x[32 * j + l]);
    }
    // The 8 sub-block searches run side by side (bit-identical to one by one).
    if (kNmax == 15)
      make_affine_scale_x8(32, kNmax, x, weights, L, mins, scales, -1.f, 0.1f, 20, false);
    else
      make_affine_scale_x8(32, kNmax, x, weights, L, mins, scales, -0.5f, 0.1f, 15, false);
    for (int j = 0; j < 8; ++j) {
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    std::memset(y.scales, 0, sizeof y.scales);
    for (int j = 0; j < 8; ++j) {
      auto ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
      auto lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
      pack_scale_min_k4(j, ls < 63 ? ls : 63, lm < 63 ? lm : 63, y.scales);
    }
    y.d = f32_to_f16(max_scale / 63.f);
    y.dmin = f32_to_f16(max_min / 63.f);
    finish(x, y, L);
  }

  static bool finite(const Block& y) { return half_is_finite(y.d) && half_is_finite(y.dmin); }

  static void weighted(const float* x, Block& y, const float* qw) {
    uint8_t L[kQK], Ls[8], Lm[8];
    float weights[kQK], sw[8], mins[8], scales[8];
    const float sigma2 = 2 * sum_squares(x, kQK) / kQK;
    for (int j = 0; j < 8; ++j) {
      float* wj = weights + 32 * j;
      importance_weights(x + 32 * j, qw + 32 * j, sigma2, 32, wj);
      float sumw = 0;
      for (int l = 0; l < 32; ++l) sumw += wj[l];
      sw[j] = sumw;
    }
    make_affine_scale_x8(32, kNmax, x, weights, L, mins, scales, -0.9f, 0.05f, 36, false);
    const float d_block = make_positive_scale(8, 63, scales, Ls, sw);
    const float m_block = make_positive_scale(8, 63, mins, Lm, sw);
    std::memset(y.scales, 0, sizeof y.scales);
    for (int j = 0; j < 8; ++j) pack_scale_min_k4(j, Ls[j] < 63 ? Ls[j] : 63, Lm[j] < 63 ? Lm[j] : 63, y.scales);
    y.d = f32_to_f16(d_block);
    y.dmin = f32_to_f16(m_block);
    finish(x, y, L);
  }
};

template <typename Block, typename Codec>
void quantize_rows_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  for_each_block<Block, kQK>(src, dst, nrows, n_per_row, qw, [](const float* x, Block& b, const float* w) {
    if (w) Codec::weighted(x, b, w);
    if (!w || !Codec::finite(b)) Codec::ref(x, b);  // see half_is_finite
  });
}

// Q6_K: symmetric 6-bit levels per 16, int8 sub-block scales, one f16 d.
struct Q6K {
  static void quantize(const float* x, BlockQ6_K& y, const float* qw) {
    int8_t L[kQK];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    make_symmetric_scale_x8(16, 32, x, L, qw, scales);
    make_symmetric_scale_x8(16, 32, x + 128, L + 128, qw ? qw + 128 : nullptr, scales + 8);
    for (int ib = 0; ib < 16; ++ib) {
      const float scale = scales[ib];
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y, 0, sizeof y);
      return;
    }
    const float iscale = -128.f / max_scale;
    y.d = f32_to_f16(1 / iscale);
    for (int ib = 0; ib < 16; ++ib) {
      const int s = nearest_int(iscale * scales[ib]);
      y.scales[ib] = static_cast<int8_t>(s < 127 ? s : 127);
    }
    const float d_all = f16_to_f32(y.d);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(y.scales[j]);
      if (!d) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>((l < -32 ? -32 : l > 31 ? 31 : l) + 32);
      }
    }
    uint8_t* ql = y.ql;
    uint8_t* qh = y.qh;
    for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
  static bool finite(const BlockQ6_K& y) { return half_is_finite(y.d); }
  static void ref(const float* x, BlockQ6_K& y) { quantize(x, y, nullptr); }
  static void weighted(const float* x, BlockQ6_K& y, const float* qw) { quantize(x, y, qw); }
};

}  // namespace

void quantize_q4_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_k<BlockQ4_K, AffineK<BlockQ4_K, 15>>(src, dst, nrows, n_per_row, qw);
}
void quantize_q5_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_k<BlockQ5_K, AffineK<BlockQ5_K, 31>>(src, dst, nrows, n_per_row, qw);
}
void quantize_q6_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  quantize_rows_k<BlockQ6_K, Q6K>(src, dst, nrows, n_per_row, qw);
}

}  // namespace libquant::gguf
