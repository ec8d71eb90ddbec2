#include "ops.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "libquant/core/half.hpp"

namespace libquant::cpu {

void set_blas_threads(unsigned n) noexcept { openblas_set_num_threads(static_cast<int>(n)); }

void linear(const float* x, int64_t n, int64_t in, const float* w, int64_t out, const float* bias, float* y) {
  if (n == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(out),
              static_cast<blasint>(in), 1.0f, x, static_cast<blasint>(in), w, static_cast<blasint>(in), 0.0f, y,
              static_cast<blasint>(out));
  if (bias)
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < out; ++c) y[r * out + c] += bias[c];
}

void rms_norm(const float* x, const float* w, int64_t n, int64_t d, double eps, float* y) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * d;
    double ss = 0.0;
    for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const auto scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(d) + eps));
    float* yr = y + r * d;
    for (int64_t i = 0; i < d; ++i) yr[i] = xr[i] * scale * w[i];
  }
}

void layer_norm(const float* x, const float* w, int64_t n, int64_t d, double eps, float* y) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * d;
    double sum = 0.0;
    for (int64_t i = 0; i < d; ++i) sum += xr[i];
    const double mean = sum / static_cast<double>(d);
    double ss = 0.0;
    for (int64_t i = 0; i < d; ++i) ss += (xr[i] - mean) * (xr[i] - mean);
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
    float* yr = y + r * d;
    for (int64_t i = 0; i < d; ++i) yr[i] = static_cast<float>((xr[i] - mean) * scale) * w[i];
  }
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int64_t* positions,
          const RopeSpec& spec) {
  const int64_t n_rot = spec.n_rot > 0 ? std::min(spec.n_rot, head_dim) : head_dim, half = n_rot / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    inv_freq[i] = std::pow(spec.base, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot)) /
                  (spec.freq_factors ? static_cast<double>(spec.freq_factors[i]) : 1.0);
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const double p = static_cast<double>(positions[t]) * spec.pos_scale;
    for (int64_t i = 0; i < half; ++i) {
      c[i] = static_cast<float>(std::cos(p * inv_freq[i]) * spec.mscale);
      s[i] = static_cast<float>(std::sin(p * inv_freq[i]) * spec.mscale);
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const int64_t a = spec.neox ? i : 2 * i, b = spec.neox ? i + half : 2 * i + 1;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * c[i] - x1 * s[i];
        v[b] = x0 * s[i] + x1 * c[i];
      }
    }
  }
}

namespace {
constexpr int64_t kQueryTile = 64;  // queries per pair of GEMMs: scores stay in cache, little masked waste
}

size_t attention_scratch_floats(int64_t T) { return static_cast<size_t>(std::min(T, kQueryTile) * T); }

void causal_attention_head(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv,
                           int64_t T, int64_t hd, float* out, int64_t ldo, float* scratch, float scale, int64_t window,
                           float softcap) {
  if (scale == 0.0f) scale = 1.0f / std::sqrt(static_cast<float>(hd));
  auto first_key = [&](int64_t t) { return window > 0 ? std::max<int64_t>(0, t - window + 1) : int64_t{0}; };
  for (int64_t t0 = 0; t0 < T; t0 += kQueryTile) {
    const int64_t t1 = std::min(T, t0 + kQueryTile), rows = t1 - t0, lo = first_key(t0), span = t1 - lo;
    // Scores of the tile's queries against every key one of them may see:
    // S[rows, span] = Q[t0:t1] K[lo:t1]^T.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(span),
                static_cast<blasint>(hd), 1.0f, q + t0 * ldq, static_cast<blasint>(ldq), k + lo * ldk,
                static_cast<blasint>(ldk), 0.0f, scratch, static_cast<blasint>(span));
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = t0 + r, from = first_key(t) - lo, to = t - lo;  // visible keys: [from, to]
      float* sr = scratch + r * span;
      float mx = -INFINITY;
      for (int64_t s = from; s <= to; ++s) {
        sr[s] = softcap > 0.0f ? softcap * std::tanh(sr[s] * scale / softcap) : sr[s] * scale;
        mx = std::max(mx, sr[s]);
      }
      double sum = 0.0;
      for (int64_t s = from; s <= to; ++s) {
        sr[s] = std::exp(sr[s] - mx);
        sum += sr[s];
      }
      const auto inv = static_cast<float>(1.0 / sum);
      for (int64_t s = from; s <= to; ++s) sr[s] *= inv;
      std::fill(sr, sr + from, 0.0f);
      std::fill(sr + to + 1, sr + span, 0.0f);
    }
    // O[t0:t1] = P V[lo:t1].
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(rows), static_cast<blasint>(hd),
                static_cast<blasint>(span), 1.0f, scratch, static_cast<blasint>(span), v + lo * ldv,
                static_cast<blasint>(ldv), 0.0f, out + t0 * ldo, static_cast<blasint>(ldo));
  }
}

void round_to_f16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = f16_to_f32(f32_to_f16(x[i]));
}

void causal_conv1d_silu(const float* x, int64_t stride, int64_t T, int64_t C, const float* w, int64_t taps,
                        const float* bias, float* y) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      float acc = bias ? bias[c] : 0.0f;
      for (int64_t k = 0; k < taps; ++k) {
        const int64_t src = t - (taps - 1) + k;
        if (src >= 0) acc += w[c * taps + k] * x[src * stride + c];
      }
      y[t * C + c] = acc / (1.0f + std::exp(-acc));
    }
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void gelu_tanh_mul(const float* g, const float* u, float* out, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f, kCubic = 0.044715f;
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[i];
    out[i] = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCubic * x * x))) * u[i];
  }
}

}  // namespace libquant::cpu
