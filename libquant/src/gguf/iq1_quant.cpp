// IQ1_S and IQ1_M quantizers: groups of 8 ternary values (-1, 0, 1) shifted
// by ±1/8, on a 2048-point codebook. The best split of each block into the
// three levels is found exhaustively over the sorted values (llama.cpp's
// qsort there is glibc's stable merge sort, hence std::stable_sort here).
#include <algorithm>
#include <cfloat>
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

constexpr float kDelta = 0.125f;
constexpr float kPlus[3] = {-1 + kDelta, kDelta, 1 + kDelta};
constexpr float kMinus[3] = {-1 - kDelta, -kDelta, 1 - kDelta};

[[noreturn]] void no_solution() {
  throw Error(ErrorCode::General, "IQ1 quantizer found no valid level split (non-finite input?)");
}

template <int N>
void sorted_order(const float* xb, int* idx) {
  for (int j = 0; j < N; ++j) idx[j] = j;
  std::stable_sort(idx, idx + N, [&](int a, int b) { return xb[a] < xb[b]; });
}

// Grid point for 8 levels: the point itself, or the neighbour with the least
// weighted squared error at `scale` with level values xx.
int snap_iq1(const Codebook& cb, const float* xb, const float* weight, float scale, const float* xx, int8_t* L,
             bool& on_grid) {
  uint32_t u = 0;
  for (int j = 0; j < 8; ++j) u |= static_cast<uint32_t>(L[j]) << (2 * j);
  const int g = cb.index_of(u);
  if (g >= 0) return g;
  on_grid = false;
  const uint16_t* nb = cb.neighbours_of(u);
  float best = FLT_MAX;
  int best_index = -1;
  for (int n = 1; n <= nb[0]; ++n) {
    const int8_t* pg = cb.point(nb[n]);
    float d2 = 0;
    for (int i = 0; i < 8; ++i) {
      const float diff = scale * xx[(pg[i] - 1) / 2] - xb[i];
      d2 += weight[i] * diff * diff;
    }
    if (d2 < best) {
      best = d2;
      best_index = nb[n];
    }
  }
  if (best_index < 0) no_solution();
  for (int i = 0; i < 8; ++i) L[i] = static_cast<int8_t>((cb.point(best_index)[i] - 1) / 2);
  return best_index;
}

// When some groups left the grid, the least-squares scale of the points
// actually chosen (group k's levels valued by tables[k]); else `scale`.
float refit_scale(const Codebook& cb, const uint16_t* index, int groups, const float* weight, const float* xb,
                  const float* const* tables, float scale) {
  float sumqx = 0, sumq2 = 0;
  for (int k = 0; k < groups; ++k) {
    const int8_t* pg = cb.point(index[k]);
    for (int j = 0; j < 8; ++j) {
      const float w = weight[8 * k + j];
      const float q = tables[k][(pg[j] - 1) / 2];
      sumqx += w * q * xb[8 * k + j];
      sumq2 += w * q * q;
    }
  }
  return sumqx > 0 && sumq2 > 0 ? sumqx / sumq2 : scale;
}

// Persistent per-call state: llama.cpp keeps the per-block shift array across
// blocks and rows, and an all-zero block reuses the previous entry.
struct Iq1State {
  int8_t shifts[16] = {};
};

void quantize_block_iq1_s(const float* xbl, BlockIQ1_S& y, const float* qwbl, Iq1State& st) {
  constexpr int kB = 32;
  const Codebook& cb = Codebook::get(CodebookKind::IQ1_S);
  float scales[8], weight[kB], sumx[kB + 1], sumw[kB + 1];
  int8_t L[kB];
  int idx[kB];
  uint16_t index[4];
  y.d = f32_to_f16(0.f);
  std::memset(y.qs, 0, sizeof y.qs);
  std::memset(y.qh, 0, sizeof y.qh);
  float max_scale = 0;
  const float sigma2 = 2 * sum_squares(xbl, kQK) / kQK;
  for (int ib = 0; ib < 8; ++ib) {
    const float* xb = xbl + kB * ib;
    const float* qw = qwbl + kB * ib;
    importance_weights(xb, qw, sigma2, kB, weight);
    float max = std::fabs(xb[0]);
    for (int i = 1; i < kB; ++i) max = max > std::fabs(xb[i]) ? max : std::fabs(xb[i]);
    if (max < 1e-12f) {
      scales[ib] = 0;
      st.shifts[ib] = 1;
      continue;
    }
    sorted_order<kB>(xb, idx);
    sumx[0] = sumw[0] = 0;
    for (int j = 0; j < kB; ++j) {
      sumx[j + 1] = sumx[j] + weight[idx[j]] * xb[idx[j]];
      sumw[j + 1] = sumw[j] + weight[idx[j]];
    }
    float best_score = -FLT_MAX, scale = max;
    int besti1 = -1, besti2 = -1, best_shift = 0;
    for (int i1 = 0; i1 <= kB; ++i1) {
      for (int i2 = i1; i2 <= kB; ++i2) {
        for (int sh = 1; sh >= -1; sh -= 2) {
          const float* t = sh == 1 ? kPlus : kMinus;
          const float sumqx = (sumx[i1] - sumx[0]) * t[0] + (sumx[i2] - sumx[i1]) * t[1] + (sumx[kB] - sumx[i2]) * t[2];
          const float sumq2 = (sumw[i1] - sumw[0]) * t[0] * t[0] + (sumw[i2] - sumw[i1]) * t[1] * t[1] +
                              (sumw[kB] - sumw[i2]) * t[2] * t[2];
          if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
            scale = sumqx / sumq2;
            best_score = scale * sumqx;
            besti1 = i1;
            besti2 = i2;
            best_shift = sh;
          }
        }
      }
    }
    if (besti1 < 0 || besti2 < 0 || best_shift == 0) {  // no split with a positive fit: an empty group
      scales[ib] = 0;
      st.shifts[ib] = 1;
      continue;
    }
    for (int j = 0; j < kB; ++j) L[idx[j]] = static_cast<int8_t>(j < besti1 ? 0 : j < besti2 ? 1 : 2);
    if (scale < 0) {
      for (int8_t& l : L) l = static_cast<int8_t>(2 - l);
      scale = -scale;
      best_shift = -best_shift;
    }
    const float* xx = best_shift == 1 ? kPlus : kMinus;
    bool all_on_grid = true;
    for (int k = 0; k < 4; ++k)
      index[k] = static_cast<uint16_t>(snap_iq1(cb, xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k, all_on_grid));
    if (!all_on_grid) {
      const float* const tables[4] = {xx, xx, xx, xx};
      scale = refit_scale(cb, index, 4, weight, xb, tables, scale);
    }
    uint16_t h = 0;
    for (int k = 0; k < 4; ++k) {
      y.qs[4 * ib + k] = static_cast<uint8_t>(index[k] & 255);
      h = static_cast<uint16_t>(h | ((index[k] >> 8) << (3 * k)));
    }
    y.qh[ib] = h;
    scales[ib] = scale;
    st.shifts[ib] = static_cast<int8_t>(best_shift);
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) return;
  const float d = max_scale / 15;
  y.d = f32_to_f16(d * 1.125f);  // llama.cpp's fudge factor
  const float id = 1 / d;
  for (int ib = 0; ib < 8; ++ib) {
    int l = nearest_int(0.5f * (id * scales[ib] - 1));
    l = l < 0 ? 0 : l > 7 ? 7 : l;
    if (st.shifts[ib] == -1) l |= 8;
    y.qh[ib] = static_cast<uint16_t>(y.qh[ib] | (l << 12));
  }
}

void iq1m_weights(const float* xb, const float* qw, float sigma2, float* weight) {
  importance_weights(xb, qw, sigma2, 16, weight);
}

// Level values of group k (0: first 8, 1: last 8) under combination `c`
// (0: +,+  1: +,-  2: -,+  3: -,-).
const float* iq1m_table(int c, int k) {
  if (k == 0) return c < 2 ? kPlus : kMinus;
  return c % 2 == 0 ? kPlus : kMinus;
}

void quantize_block_iq1_m(const float* xbl, BlockIQ1_M& y, const float* qwbl, Iq1State& st) {
  constexpr int kB = 16;
  static constexpr uint8_t kMasks[4] = {0x00, 0x80, 0x08, 0x88};
  const Codebook& cb = Codebook::get(CodebookKind::IQ1_S);
  float scales[16], weight[kB];
  int8_t L[kB];
  int idx[kB];
  uint16_t index[2];
  std::memset(&y, 0, sizeof y);
  float max_scale = 0;
  const float sigma2 = 2 * sum_squares(xbl, kQK) / kQK;
  for (int ib = 0; ib < 16; ++ib) {
    const float* xb = xbl + kB * ib;
    iq1m_weights(xb, qwbl ? qwbl + kB * ib : nullptr, sigma2, weight);
    float max = std::fabs(xb[0]);
    for (int i = 1; i < kB; ++i) max = max > std::fabs(xb[i]) ? max : std::fabs(xb[i]);
    if (max < 1e-7f) {
      scales[ib] = 0;
      st.shifts[ib] = 0;
      continue;
    }
    sorted_order<kB>(xb, idx);
    // Prefix sums over the sorted values, kept per half of the block (each half
    // has its own shift). Levels step by 1 for both shifts, so a split's sums
    // collapse to the totals at the top level minus the two prefixes: the
    // 2026 ggml's O(n^2) form, whose rounding the bytes depend on.
    float px[2][kB + 1], pw[2][kB + 1];
    px[0][0] = px[1][0] = pw[0][0] = pw[1][0] = 0;
    for (int j = 0; j < kB; ++j) {
      const int i = idx[j];
      const int h = i < kB / 2 ? 0 : 1;
      px[h][j + 1] = px[h][j] + weight[i] * xb[i];
      px[1 - h][j + 1] = px[1 - h][j];
      pw[h][j + 1] = pw[h][j] + weight[i];
      pw[1 - h][j + 1] = pw[1 - h][j];
    }
    const float txs[2] = {px[0][kB], px[1][kB]}, tws[2] = {pw[0][kB], pw[1][kB]};
    const float p2 = kPlus[2], m2 = kMinus[2];
    const float cp1 = kPlus[0] * kPlus[0] - kPlus[1] * kPlus[1], cp2 = kPlus[1] * kPlus[1] - kPlus[2] * kPlus[2];
    const float cm1 = kMinus[0] * kMinus[0] - kMinus[1] * kMinus[1];
    const float cm2 = kMinus[1] * kMinus[1] - kMinus[2] * kMinus[2];
    float best_score = -FLT_MAX, scale = max;
    int besti1 = -1, besti2 = -1, best_k = -1;
    for (int i1 = 0; i1 <= kB; ++i1) {
      for (int i2 = i1; i2 <= kB; ++i2) {
        float qx_p[2], qx_m[2], q2_p[2], q2_m[2];
        for (int h = 0; h < 2; ++h) {
          const float sx = px[h][i1] + px[h][i2];
          qx_p[h] = txs[h] * p2 - sx;
          qx_m[h] = txs[h] * m2 - sx;
          q2_p[h] = tws[h] * p2 * p2 + pw[h][i1] * cp1 + pw[h][i2] * cp2;
          q2_m[h] = tws[h] * m2 * m2 + pw[h][i1] * cm1 + pw[h][i2] * cm2;
        }
        // combinations in iq1m_table's order: (+,+) (+,-) (-,+) (-,-)
        const float sumqx[4] = {qx_p[0] + qx_p[1], qx_p[0] + qx_m[1], qx_m[0] + qx_p[1], qx_m[0] + qx_m[1]};
        const float sumq2[4] = {q2_p[0] + q2_p[1], q2_p[0] + q2_m[1], q2_m[0] + q2_p[1], q2_m[0] + q2_m[1]};
        for (int c = 0; c < 4; ++c) {
          if (sumq2[c] > 0 && sumqx[c] * sumqx[c] > best_score * sumq2[c]) {
            scale = sumqx[c] / sumq2[c];
            best_score = scale * sumqx[c];
            besti1 = i1;
            besti2 = i2;
            best_k = c;
          }
        }
      }
    }
    if (besti1 < 0 || besti2 < 0 || best_k < 0) {  // no split with a positive fit
      scales[ib] = 0;
      st.shifts[ib] = 0;
      continue;
    }
    for (int j = 0; j < kB; ++j) L[idx[j]] = static_cast<int8_t>(j < besti1 ? 0 : j < besti2 ? 1 : 2);
    if (scale < 0) {
      for (int8_t& l : L) l = static_cast<int8_t>(2 - l);
      scale = -scale;
      best_k = 3 - best_k;
    }
    bool all_on_grid = true;
    for (int k = 0; k < 2; ++k)
      index[k] = static_cast<uint16_t>(
          snap_iq1(cb, xb + 8 * k, weight + 8 * k, scale, iq1m_table(best_k, k), L + 8 * k, all_on_grid));
    if (!all_on_grid) {
      const float* const tables[2] = {iq1m_table(best_k, 0), iq1m_table(best_k, 1)};
      scale = refit_scale(cb, index, 2, weight, xb, tables, scale);
    }
    y.qs[2 * ib] = static_cast<uint8_t>(index[0] & 255);
    y.qs[2 * ib + 1] = static_cast<uint8_t>(index[1] & 255);
    y.qh[ib] = static_cast<uint8_t>((index[0] >> 8) | ((index[1] >> 8) << 4));
    scales[ib] = scale;
    st.shifts[ib] = static_cast<int8_t>(best_k);
    max_scale = max_scale > scale ? max_scale : scale;
  }
  if (!max_scale) return;
  uint16_t sc[4] = {};
  float d = max_scale / 15;
  const float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int ib = 0; ib < 16; ++ib) {
    int l = nearest_int(0.5f * (id * scales[ib] - 1));
    l = l < 0 ? 0 : l > 7 ? 7 : l;
    sc[ib / 4] = static_cast<uint16_t>(sc[ib / 4] | (l << (3 * (ib % 4))));
    y.qh[ib] = static_cast<uint8_t>(y.qh[ib] | kMasks[st.shifts[ib]]);
    const float* xb = xbl + kB * ib;
    iq1m_weights(xb, qwbl ? qwbl + kB * ib : nullptr, sigma2, weight);
    for (int k = 0; k < 2; ++k) {
      const float* xx = iq1m_table(st.shifts[ib], k);
      const int8_t* pg = cb.point(y.qs[2 * ib + k] + ((y.qh[ib] << (8 - 4 * k)) & 0x700));
      for (int j = 0; j < 8; ++j) {
        const float w = weight[8 * k + j];
        const float q = xx[(pg[j] - 1) / 2] * static_cast<float>(2 * l + 1);
        sumqx += w * q * xb[8 * k + j];
        sumq2 += w * q * q;
      }
    }
  }
  if (sumq2 > 0) d = sumqx / sumq2;
  const uint16_t s = f32_to_f16(d * 1.1125f);  // llama.cpp's fudge factor
  sc[0] = static_cast<uint16_t>(sc[0] | ((s & 0x000f) << 12));
  sc[1] = static_cast<uint16_t>(sc[1] | ((s & 0x00f0) << 8));
  sc[2] = static_cast<uint16_t>(sc[2] | ((s & 0x0f00) << 4));
  sc[3] = static_cast<uint16_t>(sc[3] | (s & 0xf000));
  std::memcpy(y.scales, sc, sizeof sc);
}

}  // namespace

void quantize_iq1_s(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  iq::require_importance(qw, "IQ1_S");
  Iq1State st;
  for_each_block<BlockIQ1_S, kQK>(src, dst, nrows, n_per_row, qw, [&](const float* x, BlockIQ1_S& b, const float* w) {
    quantize_block_iq1_s(x, b, w, st);
  });
}

void quantize_iq1_m(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  Iq1State st;
  for_each_block<BlockIQ1_M, kQK>(src, dst, nrows, n_per_row, qw, [&](const float* x, BlockIQ1_M& b, const float* w) {
    quantize_block_iq1_m(x, b, w, st);
  });
}

}  // namespace libquant::gguf
