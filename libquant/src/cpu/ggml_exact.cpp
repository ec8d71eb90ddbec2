#include "ggml_exact.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "ggml_exact_avx2.hpp"
#include "ggml_exact_avx512.hpp"
#include "ops.hpp"
#include "libquant/core/cpu_features.hpp"
#include "libquant/core/half.hpp"
#include "libquant/core/thread_pool.hpp"

namespace libquant::cpu::ggml {

namespace {
SimdLevel level() noexcept { return simd_level(); }
}  // namespace

float hsum16(const float* v) {
  float t[8], u[4];
  for (int i = 0; i < 8; ++i) t[i] = v[i + 8] + v[i];
  for (int i = 0; i < 4; ++i) u[i] = t[i + 4] + t[i];
  return (u[0] + u[2]) + (u[1] + u[3]);
}

// Bodies are always inlined so that the FMA-targeted entry points below get
// the fused instruction for std::fma instead of a libm call (same results).
#define LQ_INLINE [[gnu::always_inline]] inline
#if defined(__x86_64__)
#define LQ_FMA __attribute__((target("fma")))
#else
#define LQ_FMA
#endif

namespace {
bool has_fma() { return cpu_features().fma; }
}  // namespace

LQ_INLINE float vexpf_body(float x) {
  // ggml_v_expf: round x*log2(e) to an integer n with the 1.5*2^23 trick,
  // reduce b = x - n*ln2 in two parts, a degree-5 polynomial, scale by 2^n.
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
  const float u = b * b;
  const float j =
      std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
               std::fma(0x1.ffffecp-1f, b, 1.0f));
  if (std::isnan(n)) return n;
  // _mm512_scalef_ps(j, n) = j * 2^n rounded once; 2^n is a normal float here.
  if (n >= -126.0f && n <= 127.0f)
    return j * std::bit_cast<float>(static_cast<uint32_t>(static_cast<int>(n) + 127) << 23);
  return std::ldexp(j, static_cast<int>(n));
}

namespace {
LQ_FMA float vexpf_fma(float x) { return vexpf_body(x); }
}  // namespace

float vexpf(float x) { return has_fma() ? vexpf_fma(x) : vexpf_body(x); }

namespace {

// tinyBLAS: 16 FMA chains (lane l takes elements l, l+16, ...), then hsum16.
LQ_INLINE float dot_tinyblas(const float* a, const float* b, int64_t k) {
  float acc[16] = {};
  for (int64_t l = 0; l < k; l += 16)
    for (int q = 0; q < 16; ++q) acc[q] = std::fma(a[l + q], b[l + q], acc[q]);
  return hsum16(acc);
}

// ggml_vec_dot_f32 / _f16's 4 x 16 FMA chains over blocks of 64 and their reduction.
LQ_INLINE float vec_dot_blocks(const float* x, const float* y, int64_t np) {
  float s[4][16] = {};
  for (int64_t i = 0; i < np; i += 64)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t q = 0; q < 16; ++q) s[j][q] = std::fma(x[i + 16 * j + q], y[i + 16 * j + q], s[j][q]);
  for (int q = 0; q < 16; ++q) {
    s[0][q] += s[2][q];
    s[1][q] += s[3][q];
  }
  for (int q = 0; q < 16; ++q) s[0][q] += s[1][q];
  return hsum16(s[0]);
}

// ggml_vec_dot_f16 (F16: x and y hold f16 values): the tail is summed in
// double (products of halves are exact). ggml_vec_dot_f32: GCC vectorised its
// tail `sumf += x[i]*y[i]` into groups of 16, then one of 8, adding rounded
// products in order; the last < 8 became FMAs.
template <bool F16>
LQ_INLINE float vec_dot(const float* x, const float* y, int64_t n) {
  const int64_t np = n & ~int64_t{63};
  if constexpr (F16) {
    double s = vec_dot_blocks(x, y, np);
    for (int64_t i = np; i < n; ++i) s += static_cast<double>(x[i] * y[i]);
    return static_cast<float>(s);
  } else {
    float s = vec_dot_blocks(x, y, np);
    int64_t i = np;
    for (; n - i >= 16; i += 16)
      for (int q = 0; q < 16; ++q) s += x[i + q] * y[i + q];
    if (n - i >= 8) {
      for (int q = 0; q < 8; ++q) s += x[i + q] * y[i + q];
      i += 8;
    }
    for (; i < n; ++i) s = std::fma(x[i], y[i], s);
    return s;
  }
}

// llamafile_sgemm takes the product when there are >= 2 columns, rows come
// in fours and k in sixteens; otherwise ggml falls back to vec_dot.
bool tinyblas_applies(int64_t m, int64_t n, int64_t k) { return n >= 2 && m % 4 == 0 && k % 16 == 0; }

template <bool F16>
LQ_INLINE void scalar_block(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                            int64_t i0, int64_t i1, int64_t j0, int64_t j1, bool tiny) {
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t i = i0; i < i1; ++i)
      C[j * ldc + i] = tiny ? dot_tinyblas(A + i * lda, B + j * ldb, k) : vec_dot<F16>(A + i * lda, B + j * ldb, k);
}
template <bool F16>
LQ_FMA void scalar_block_fma(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                             int64_t i0, int64_t i1, int64_t j0, int64_t j1, bool tiny) {
  scalar_block<F16>(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1, tiny);
}

// F16 products run on the halves widened to f32: the conversion is exact and
// tinyBLAS's f16 kernel converts before its FMAs, so the results are the same.
template <bool F16>
void product(const float* A, int64_t lda, int64_t m, const float* B, int64_t ldb, int64_t n, int64_t k, float* C,
             int64_t ldc, ThreadPool* pool) {
  const bool tiny = tinyblas_applies(m, n, k);
  constexpr int64_t kRows = 32, kCols = 96;  // a job: 32 weight rows x 96 tokens (multiples of 4 rows)
  const int64_t rb = (m + kRows - 1) / kRows, cb = (n + kCols - 1) / kCols;
  const SimdLevel simd = level();
  auto job = [&](size_t a, size_t b) {
    for (size_t t = a; t < b; ++t) {
      const int64_t r = static_cast<int64_t>(t) % rb, c = static_cast<int64_t>(t) / rb;
      const int64_t i0 = r * kRows, i1 = std::min(m, i0 + kRows), j0 = c * kCols, j1 = std::min(n, j0 + kCols);
      if (tiny && simd == SimdLevel::Avx512)
        avx512::tinyblas_f32(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1);
      else if (tiny && simd == SimdLevel::Avx2)
        avx2::tinyblas_f32(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1);
      else if (has_fma())
        scalar_block_fma<F16>(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1, tiny);
      else
        scalar_block<F16>(A, lda, B, ldb, k, C, ldc, i0, i1, j0, j1, tiny);
    }
  };
  if (pool)
    pool->parallel_for(static_cast<size_t>(rb * cb), 1, job);
  else
    job(0, static_cast<size_t>(rb * cb));
}

}  // namespace

void matmul_f32(const float* A, int64_t lda, int64_t m, const float* B, int64_t ldb, int64_t n, int64_t k, float* C,
                int64_t ldc, ThreadPool& pool) {
  product<false>(A, lda, m, B, ldb, n, k, C, ldc, &pool);
}

void round_to_half(float* x, int64_t n) {
  switch (level()) {
    case SimdLevel::Avx512:
      return avx512::round_to_half(x, n);
    case SimdLevel::Avx2:
      return avx2::round_to_half(x, n);
    default:
      return round_to_f16(x, n);
  }
}

void rms_norm(const float* x, const float* w, int64_t n, int64_t d, float eps, float* y) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * d;
    double sum = 0.0;
    for (int64_t i = 0; i < d; ++i) sum += static_cast<double>(xr[i] * xr[i]);
    const auto mean = static_cast<float>(sum / static_cast<double>(d));
    const float scale = 1.0f / std::sqrt(mean + eps);
    float* yr = y + r * d;
    for (int64_t i = 0; i < d; ++i) yr[i] = (xr[i] * scale) * w[i];
  }
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int64_t* positions, float base,
          float freq_scale, bool neox, const float* freq_factors) {
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(head_dim));
  const int64_t half = head_dim / 2;
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (int64_t t = 0; t < n_tokens; ++t) {
    // ggml_rope_cache_init: theta advances by repeated float multiplication.
    float theta = static_cast<float>(positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      const float ff = freq_factors ? freq_factors[i] : 1.0f;
      const float th = freq_scale * (theta / ff);
      c[i] = std::cos(th);
      s[i] = std::sin(th);
      theta *= theta_scale;
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* p = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        float& a = neox ? p[i] : p[2 * i];
        float& b = neox ? p[i + half] : p[2 * i + 1];
        const float x0 = a, x1 = b;
        // As GCC contracted `x0*cos - x1*sin` and `x0*sin + x1*cos` (checked
        // against llama.cpp's tensors; the neox branch is assumed to match).
        a = std::fma(x0, c[i], -(x1 * s[i]));
        b = std::fma(x0, s[i], x1 * c[i]);
      }
    }
  }
}

namespace {
LQ_INLINE void silu_mul_body(const float* g, const float* u, float* out, int64_t rows, int64_t cols) {
  const SimdLevel simd = level();
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = g + r * cols;
    const float* ur = u + r * cols;
    float* o = out + r * cols;
    // ggml_v_silu takes groups of 16 lanes; the rest goes through expf.
    int64_t i = 0;
    if (simd != SimdLevel::Scalar) {
      i = cols / 16 * 16;
      if (simd == SimdLevel::Avx512)
        avx512::silu_mul(gr, ur, o, i);
      else
        avx2::silu_mul(gr, ur, o, i);
    }
    for (; i + 15 < cols; i += 16)  // ggml_v_silu lanes
      for (int q = 0; q < 16; ++q) o[i + q] = (gr[i + q] / (1.0f + vexpf_body(0.0f - gr[i + q]))) * ur[i + q];
    for (; i < cols; ++i) o[i] = (gr[i] / (1.0f + std::exp(-gr[i]))) * ur[i];
  }
}
LQ_FMA void silu_mul_fma(const float* g, const float* u, float* out, int64_t rows, int64_t cols) {
  silu_mul_body(g, u, out, rows, cols);
}
}  // namespace

void silu_mul(const float* g, const float* u, float* out, int64_t rows, int64_t cols) {
  if (has_fma())
    silu_mul_fma(g, u, out, rows, cols);
  else
    silu_mul_body(g, u, out, rows, cols);
}

namespace {
LQ_INLINE void soft_max_row_body(float* x, int64_t n, float scale, const float* mask) {
  for (int64_t i = 0; i < n; ++i) x[i] *= scale;
  if (mask)
    for (int64_t i = 0; i < n; ++i) x[i] += mask[i];
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0.0;
  int64_t i = 0;
  const SimdLevel simd = level();
  for (; i + 15 < n; i += 16) {
    if (simd == SimdLevel::Avx512)
      avx512::exp_minus(x + i, mx, x + i, 16);
    else if (simd == SimdLevel::Avx2)
      avx2::exp_minus(x + i, mx, x + i, 16);
    else
      for (int q = 0; q < 16; ++q) x[i + q] = vexpf_body(x[i + q] - mx);
    sum += static_cast<double>(hsum16(x + i));
  }
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += static_cast<double>(x[i]);
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (int64_t k = 0; k < n; ++k) x[k] *= inv;
}
LQ_FMA void soft_max_row_fma(float* x, int64_t n, float scale, const float* mask) {
  soft_max_row_body(x, n, scale, mask);
}
}  // namespace

void soft_max_row(float* x, int64_t n, float scale, const float* mask) {
  if (has_fma())
    soft_max_row_fma(x, n, scale, mask);
  else
    soft_max_row_body(x, n, scale, mask);
}

void attention(const float* q, const float* k, const float* v, int64_t T, int64_t nh, int64_t nkv, int64_t hd,
               float* out, ThreadPool& pool) {
  const int64_t cells = (T + 31) / 32 * 32;  // llama.cpp's KV view covers whole 32-cell pads
  const int64_t kvd = nkv * hd, group = nh / nkv;
  // The F16 cache (values kept widened): K one row per cell, V transposed (one row per channel).
  std::vector<float> kc(static_cast<size_t>(cells * kvd), 0.0f), vt(static_cast<size_t>(kvd * cells), 0.0f);
  std::copy(k, k + T * kvd, kc.begin());
  round_to_half(kc.data(), T * kvd);
  std::vector<float> vh(v, v + T * kvd);
  round_to_half(vh.data(), T * kvd);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < kvd; ++c) vt[c * cells + t] = vh[t * kvd + c];
  std::vector<float> mask(static_cast<size_t>(T * cells));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < cells; ++c) mask[t * cells + c] = c <= t ? 0.0f : -INFINITY;
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool.parallel_for(static_cast<size_t>(nh), 1, [&](size_t a, size_t b) {
    std::vector<float> qh(static_cast<size_t>(T * hd)), kq(static_cast<size_t>(T * cells));
    for (size_t hh = a; hh < b; ++hh) {
      const auto h = static_cast<int64_t>(hh), kh = h / group;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t d = 0; d < hd; ++d) qh[t * hd + d] = q[t * nh * hd + h * hd + d];
      round_to_half(qh.data(), T * hd);
      product<true>(kc.data() + kh * hd, kvd, cells, qh.data(), hd, T, hd, kq.data(), cells, nullptr);
      for (int64_t t = 0; t < T; ++t) {
        float* row = kq.data() + t * cells;
        soft_max_row(row, cells, kq_scale, mask.data() + t * cells);
      }
      round_to_half(kq.data(), T * cells);
      product<true>(vt.data() + kh * hd * cells, cells, hd, kq.data(), cells, T, cells, out + h * hd, nh * hd, nullptr);
    }
  });
}

}  // namespace libquant::cpu::ggml
