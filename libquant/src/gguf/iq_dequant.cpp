// Decoders of the codebook types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S,
// IQ1_S, IQ1_M), arithmetic in ggml's order.
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "iq_codebook.hpp"
#include "libquant/core/half.hpp"

namespace libquant::gguf {
namespace {
constexpr float kIq1Delta = 0.125f;
float sign_of(uint8_t signs, int j) { return (signs >> j) & 1 ? -1.f : 1.f; }
}  // namespace

void dequantize_iq2_xxs(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ2_XXS*>(src);
  const uint8_t* grid = iq2xxs_grid_bytes();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(x[i].d);
    for (int ib = 0; ib < 8; ++ib) {
      uint32_t aux[2];
      std::memcpy(aux, x[i].qs + 4 * ib, 8);
      const float db = d * (0.5f + static_cast<float>(aux[1] >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint8_t* g = grid + 8 * ((aux[0] >> (8 * l)) & 0xFF);
        const uint8_t signs = even_parity_signs(static_cast<int>((aux[1] >> (7 * l)) & 127));
        for (int j = 0; j < 8; ++j) y[j] = db * static_cast<float>(g[j]) * sign_of(signs, j);
      }
    }
  }
}

void dequantize_iq2_xs(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ2_XS*>(src);
  const uint8_t* grid = iq2xs_grid_bytes();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(x[i].d);
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + static_cast<float>(x[i].scales[ib] & 0xf)) * 0.25f,
                           d * (0.5f + static_cast<float>(x[i].scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint16_t q = x[i].qs[4 * ib + l];
        const uint8_t* g = grid + 8 * (q & 511);
        const uint8_t signs = even_parity_signs(q >> 9);
        for (int j = 0; j < 8; ++j) y[j] = db[l / 2] * static_cast<float>(g[j]) * sign_of(signs, j);
      }
    }
  }
}

void dequantize_iq2_s(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ2_S*>(src);
  const uint8_t* grid = iq2s_grid_bytes();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* signs = x[i].qs + kQK / 8;
    for (int ib = 0; ib < 8; ++ib, qs += 4, signs += 4) {
      const float db[2] = {d * (0.5f + static_cast<float>(x[i].scales[ib] & 0xf)) * 0.25f,
                           d * (0.5f + static_cast<float>(x[i].scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint8_t* g = grid + 8 * (qs[l] | ((x[i].qh[ib] << (8 - 2 * l)) & 0x300));
        for (int j = 0; j < 8; ++j) y[j] = db[l / 2] * static_cast<float>(g[j]) * sign_of(signs[l], j);
      }
    }
  }
}

void dequantize_iq3_xxs(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ3_XXS*>(src);
  const uint8_t* grid = iq3xxs_grid_bytes();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* scales_and_signs = x[i].qs + kQK / 4;
    for (int ib = 0; ib < 8; ++ib, qs += 8) {
      uint32_t aux;
      std::memcpy(&aux, scales_and_signs + 4 * ib, 4);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint8_t signs = even_parity_signs(static_cast<int>((aux >> (7 * l)) & 127));
        const uint8_t* g1 = grid + 4 * qs[2 * l];
        const uint8_t* g2 = grid + 4 * qs[2 * l + 1];
        for (int j = 0; j < 4; ++j) {
          y[j] = db * static_cast<float>(g1[j]) * sign_of(signs, j);
          y[j + 4] = db * static_cast<float>(g2[j]) * sign_of(signs, j + 4);
        }
      }
    }
  }
}

void dequantize_iq3_s(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ3_S*>(src);
  const uint8_t* grid = iq3s_grid_bytes();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const uint8_t* signs = x[i].signs;
    for (int ib = 0; ib < 8; ib += 2, qh += 2) {
      for (int half = 0; half < 2; ++half, qs += 8, signs += 4) {
        const int sc = half == 0 ? (x[i].scales[ib / 2] & 0xf) : (x[i].scales[ib / 2] >> 4);
        const float db = d * static_cast<float>(1 + 2 * sc);
        for (int l = 0; l < 4; ++l, y += 8) {
          const uint8_t* g1 = grid + 4 * (qs[2 * l] | ((qh[half] << (8 - 2 * l)) & 256));
          const uint8_t* g2 = grid + 4 * (qs[2 * l + 1] | ((qh[half] << (7 - 2 * l)) & 256));
          for (int j = 0; j < 4; ++j) {
            y[j] = db * static_cast<float>(g1[j]) * sign_of(signs[l], j);
            y[j + 4] = db * static_cast<float>(g2[j]) * sign_of(signs[l], j + 4);
          }
        }
      }
    }
  }
}

void dequantize_iq1_s(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ1_S*>(src);
  const int8_t* grid = iq1s_grid_values();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(x[i].d);
    const uint8_t* qs = x[i].qs;
    for (int ib = 0; ib < 8; ++ib, qs += 4) {
      const uint16_t qh = x[i].qh[ib];
      const float dl = d * static_cast<float>(2 * ((qh >> 12) & 7) + 1);
      const float delta = qh & 0x8000 ? -kIq1Delta : kIq1Delta;
      for (int l = 0; l < 4; ++l, y += 8) {
        const int8_t* g = grid + 8 * (qs[l] | (((qh >> (3 * l)) & 7) << 8));
        for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(g[j]) + delta);
      }
    }
  }
}

void dequantize_iq1_m(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ1_M*>(src);
  const int8_t* grid = iq1s_grid_values();
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint16_t sc[4];
    std::memcpy(sc, x[i].scales, 8);
    const auto scale =
        static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = f16_to_f32(scale);
    const uint8_t* qs = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int ib = 0; ib < 8; ++ib, qs += 4, qh += 2) {
      const float dl1 = d * static_cast<float>(2 * ((sc[ib / 2] >> (6 * (ib % 2))) & 0x7) + 1);
      const float dl2 = d * static_cast<float>(2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
      const int idx[4] = {qs[0] | ((qh[0] << 8) & 0x700), qs[1] | ((qh[0] << 4) & 0x700),
                          qs[2] | ((qh[1] << 8) & 0x700), qs[3] | ((qh[1] << 4) & 0x700)};
      const float delta[4] = {qh[0] & 0x08 ? -kIq1Delta : kIq1Delta, qh[0] & 0x80 ? -kIq1Delta : kIq1Delta,
                              qh[1] & 0x08 ? -kIq1Delta : kIq1Delta, qh[1] & 0x80 ? -kIq1Delta : kIq1Delta};
      for (int l = 0; l < 4; ++l, y += 8) {
        const int8_t* g = grid + 8 * idx[l];
        const float dl = l < 2 ? dl1 : dl2;
        for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(g[j]) + delta[l]);
      }
    }
  }
}

}  // namespace libquant::gguf
