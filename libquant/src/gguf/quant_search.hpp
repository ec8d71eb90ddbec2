#pragma once
// Scale searches shared by the block quantizers. Each one reproduces the
// float arithmetic of llama.cpp's ggml-quants.c step for step (same
// accumulation order, same rounding at each site), because the output bytes
// must match llama-quantize's; none of them may be "simplified" or
// vectorised across elements without breaking that.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace libquant::gguf {

// Below this a group counts as all-zero (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, via the 1.5 * 2^23 magic constant; valid
// for |f| <= 2^22 (ggml's nearest_int).
inline int nearest_int(float f) noexcept {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// ggml's `(int8_t)f` / `(uint8_t)f` as compiled for x86: truncate toward
// zero through a 32-bit integer and keep the low byte. Values outside the
// int32 range (inf/NaN from a block whose 1/d overflowed) become INT32_MIN
// there, as cvttss2si gives; C++ leaves those undefined, so spell it out.
inline int32_t truncate_to_int32(float f) noexcept {
  if (!(f > -2147483648.0f && f < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(f);
}
inline int8_t truncate_to_int8(float f) noexcept { return static_cast<int8_t>(truncate_to_int32(f)); }
inline uint8_t truncate_to_uint8(float f) noexcept { return static_cast<uint8_t>(truncate_to_int32(f)); }

// Sum of x^2 in index order (the sigma^2 term of the importance weighting).
inline float sum_squares(const float* x, int64_t n) noexcept {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// The value of largest magnitude with its sign (the first one on ties);
// `amax` receives its magnitude.
inline float signed_absmax(const float* x, int n, float& amax) noexcept {
  float max = 0;
  amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  return max;
}

// The importance weighting of llama.cpp's quantizers: w_i = qw_i * sqrt(sigma2
// + x_i^2) with an importance vector; without one x_i^2 (+ `extra`, which
// only IQ2_S uses).
inline void importance_weights(const float* x, const float* qw, float sigma2, int n, float* w,
                               float extra = 0) noexcept {
  for (int i = 0; i < n; ++i) w[i] = qw ? qw[i] * std::sqrt(sigma2 + x[i] * x[i]) : extra + x[i] * x[i];
}

// How make_symmetric_scale weighs each element's squared error.
enum class ErrorWeight { None = 0, Square = 1, Unit = 2, Abs = 3, SqrtAbs = 4 };

// Symmetric levels L[i] in [0, 2*nmax) (stored with +nmax offset) for
// x ≈ scale * (L - nmax). Weighted by `qw` when given, else by `ew`; tries 19
// candidate scales (ggml's make_qx_quants). ew == None is plain rounding.
float make_symmetric_scale(int n, int nmax, const float* x, int8_t* L, ErrorWeight ew, const float* qw);

// Symmetric 3-bit style levels refined by coordinate descent with x^2
// weights (ggml's make_q3_quants with do_rmse). L in [0, 2*nmax).
float make_symmetric_scale_refined(int n, int nmax, const float* x, int8_t* L);

// Asymmetric x ≈ scale * L - min with L in [0, nmax] and min >= 0, searching
// nstep+1 candidate scales and solving weighted least squares for each
// (ggml's make_qkx2_quants / make_qkx3_quants; `w` null means x^2 weights).
// Returns the scale; *the_min receives min.
float make_affine_scale(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, uint8_t* Laux,
                        float rmin, float rdelta, int nstep, bool use_mad);

// Levels in [0, nmax] for non-negative x (sub-block scales and mins),
// weighted, with a small scale search and coordinate descent (ggml's
// make_qp_quants).
float make_positive_scale(int n, int nmax, const float* x, uint8_t* L, const float* w);

// Index of the entry of the sorted table `val` nearest to x (ties go up).
inline int nearest_table_index(int n, const int8_t* val, float x) noexcept {
  if (x <= val[0]) return 0;
  if (x >= val[n - 1]) return n - 1;
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < val[mid])
      hi = mid;
    else
      lo = mid;
  }
  return x - val[hi - 1] < val[hi] - x ? hi - 1 : hi;
}

}  // namespace libquant::gguf
