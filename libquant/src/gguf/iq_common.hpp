#pragma once
// Steps shared by the codebook quantizers (IQ1/IQ2/IQ3), in ggml's exact
// arithmetic.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "iq_codebook.hpp"
#include "libquant/core/error.hpp"
#include "quant_search.hpp"

namespace libquant::gguf::iq {

inline void sqrt_weights(const float* w, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = std::sqrt(w[i]);
}

inline float max_of(const float* x, int n) {
  float m = x[0];
  for (int i = 1; i < n; ++i) m = m > x[i] ? m : x[i];
  return m;
}

// Magnitudes of 8 values and all 8 sign bits (IQ2_S, IQ3_S).
inline uint8_t split_signs(const float* xb, float* xval) {
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    xval[i] = xb[i] >= 0 ? xb[i] : -xb[i];
    if (xb[i] < 0) s = static_cast<uint8_t>(s | (1 << i));
  }
  return s;
}

// Magnitudes of 8 values and their sign bits; an odd count of negatives
// flips the least important element so that the stored signs have even
// parity (the 8th sign is implied). Returns the 7 stored sign bits.
inline uint8_t split_signs_even(const float* xb, const float* weight, float* xval) {
  int nflip = 0;
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    if (xb[i] >= 0) {
      xval[i] = xb[i];
    } else {
      xval[i] = -xb[i];
      ++nflip;
      s = static_cast<uint8_t>(s | (1 << i));
    }
  }
  if (nflip % 2) {
    int imin = 0;
    float min = weight[0] * xb[0] * xb[0];
    for (int i = 1; i < 8; ++i) {
      const float ax = weight[i] * xb[i] * xb[i];
      if (ax < min) {
        min = ax;
        imin = i;
      }
    }
    xval[imin] = -xval[imin];
    s = static_cast<uint8_t>(s ^ (1 << imin));
  }
  return s & 127;
}

// Levels of `dim` magnitudes at inverse scale id (nearest odd lattice
// coordinate, clamped to [0, nmax)), packed at `bits` per coordinate.
inline uint32_t pack_levels(const float* xval, float id, int dim, int bits, int nmax, int8_t* L) {
  uint32_t u = 0;
  for (int i = 0; i < dim; ++i) {
    int l = nearest_int(0.5f * (id * xval[i] - 1));
    l = l < 0 ? 0 : l > nmax - 1 ? nmax - 1 : l;
    L[i] = static_cast<int8_t>(l);
    u |= static_cast<uint32_t>(l) << (bits * i);
  }
  return u;
}

inline uint32_t packed_of(const int8_t* L, int dim, int bits) {
  uint32_t u = 0;
  for (int i = 0; i < dim; ++i) u |= static_cast<uint32_t>(L[i]) << (bits * i);
  return u;
}

// Snap one group to the codebook: levels at `id`, or the best neighbour at
// `scale` when those are off the grid. Returns whether they were on it.
inline bool snap_group(const Codebook& cb, const float* xval, const float* waux, float id, float scale, int bits,
                       int nmax, int8_t* L) {
  const uint32_t u = pack_levels(xval, id, cb.dim(), bits, nmax, L);
  if (cb.index_of(u) >= 0) return true;
  cb.best_neighbour(u, xval, waux, scale, L);
  return false;
}

// Snap to the grid point itself (levels rewritten from the point).
inline int snap_to_point(const Codebook& cb, const float* xval, const float* waux, float id, float scale, int bits,
                         int nmax, int8_t* L) {
  int8_t tmp[8];
  const uint32_t u = pack_levels(xval, id, cb.dim(), bits, nmax, tmp);
  int g = cb.index_of(u);
  if (g < 0) g = cb.best_neighbour(u, xval, waux, scale, L);
  for (int i = 0; i < cb.dim(); ++i) L[i] = static_cast<int8_t>((cb.point(g)[i] - 1) / 2);
  return g;
}

// Weighted least-squares terms of x ≈ s * (2L + 1).
inline void fit(const float* weight, const float* xval, const int8_t* L, int n, float& sumqx, float& sumq2) {
  sumqx = sumq2 = 0;
  for (int i = 0; i < n; ++i) {
    const auto q = static_cast<float>(2 * L[i] + 1);
    sumqx += weight[i] * xval[i] * q;
    sumq2 += weight[i] * q * q;
  }
}

inline int grid_index_or_throw(const Codebook& cb, const int8_t* L, int bits) {
  const int g = cb.index_of(packed_of(L, cb.dim(), bits));
  if (g < 0) throw Error(ErrorCode::General, "codebook quantizer produced a point off the grid (non-finite input?)");
  return g;
}

// The scale search of IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S for one block of `n`
// magnitudes in groups of the codebook's dimension: 2*ntrial+1 trial scales
// (step apart), each snapping every group to the grid; then groups left off
// the grid are re-snapped at the best scale and the scale refitted. The
// types differ in whether groups start as on-grid (IQ3_S: no) and whether
// the refit re-snaps every group (IQ3_S) or only the off-grid ones.
struct ScaleSearch {
  int n, nmax, bits, ntrial;
  float step;
  bool on_grid_start, refine_all;
};

inline float search_scale(const Codebook& cb, const ScaleSearch& p, const float* xval, const float* weight,
                          const float* waux, float max, int8_t* L) {
  const int dim = cb.dim(), groups = p.n / dim;
  int8_t Laux[32];
  bool on_grid[8], on_grid_aux[8];
  float best = 0;
  float scale = max / (2 * p.nmax - 1);
  for (int k = 0; k < groups; ++k) on_grid[k] = p.on_grid_start;
  for (int is = -p.ntrial; is <= p.ntrial; ++is) {
    const float id = (2 * p.nmax - 1 + static_cast<float>(is) * p.step) / max;
    const float this_scale = 1 / id;
    for (int k = 0; k < groups; ++k)
      on_grid_aux[k] = snap_group(cb, xval + dim * k, waux + dim * k, id, this_scale, p.bits, p.nmax, Laux + dim * k);
    float sumqx, sumq2;
    fit(weight, xval, Laux, p.n, sumqx, sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      std::memcpy(L, Laux, static_cast<size_t>(p.n));
      std::memcpy(on_grid, on_grid_aux, sizeof(bool) * static_cast<size_t>(groups));
    }
  }
  int n_off = 0;
  for (int k = 0; k < groups; ++k) n_off += on_grid[k] ? 0 : 1;
  if (n_off > 0 && scale > 0) {
    const float id = 1 / scale;
    for (int k = 0; k < groups; ++k) {
      if (on_grid[k] && !p.refine_all) continue;
      snap_to_point(cb, xval + dim * k, waux + dim * k, id, scale, p.bits, p.nmax, L + dim * k);
    }
    float sumqx, sumq2;
    fit(weight, xval, L, p.n, sumqx, sumq2);
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  return scale;
}

// The codebook types llama.cpp cannot run without importance weights.
inline void require_importance(const float* qw, const char* type) {
  if (!qw)
    throw Error(ErrorCode::ImatrixInvalid, std::string(type) + " needs importance weights",
                "Pass an importance matrix (`imatrix`)");
}

// 4-bit sub-block scale code of the IQ2/IQ3 types: s ≈ d * (2l + 1).
inline int odd_scale_code(float id, float scale) {
  const int l = nearest_int(0.5f * (id * scale - 1));
  return l < 0 ? 0 : l > 15 ? 15 : l;
}

}  // namespace libquant::gguf::iq
