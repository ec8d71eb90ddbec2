// The f32 forward's building blocks for the newer families, against
// independent definitions: GeGLU's GELU (tanh approximation) at known values,
// local (sliding-window) attention with a query scale against a
// double-precision softmax over exactly the positions the window admits,
// LayerNorm at hand-computed values and partial / scaled RoPE written out.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "cpu/ops.hpp"

using namespace libquant;

TEST_CASE("gelu_tanh_mul: GELU (tanh approximation) times the up projection", "[ops]") {
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), e.g. PyTorch's gelu(approximate="tanh").
  const std::vector<float> g = {1.0f, -0.5f, 2.0f, 0.0f, -3.0f};
  const std::vector<double> gelu = {0.8411919906, -0.1542859, 1.9545976, 0.0, -0.0036373};
  const std::vector<float> u = {1.0f, 2.0f, -1.0f, 5.0f, 1.0f};
  std::vector<float> out(g.size());
  cpu::gelu_tanh_mul(g.data(), u.data(), out.data(), static_cast<int64_t>(g.size()));
  for (size_t i = 0; i < g.size(); ++i) CHECK(out[i] == Approx(gelu[i] * u[i]).margin(1e-6));
}

TEST_CASE("local attention sees the last `window` positions, with the given query scale and soft-cap", "[ops]") {
  // 150 positions: queries go in tiles of 64, so windows cross tile borders.
  const int64_t T = 150, hd = 8;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> q(T * hd), k(T * hd), v(T * hd), out(T * hd), scratch(cpu::attention_scratch_floats(T));
  for (auto* x : {&q, &k, &v})
    for (float& f : *x) f = nd(rng);
  for (int64_t window : {0, 1, 4, 70, 150}) {
    const float scale = window == 4 ? 0.3f : 0.0f;  // 0: 1/sqrt(hd)
    const float cap = window == 150 ? 0.5f : 0.0f;  // Gemma 2's tanh soft-cap on the scores
    cpu::causal_attention_head(q.data(), hd, k.data(), hd, v.data(), hd, T, hd, out.data(), hd, scratch.data(), scale,
                               window, cap);
    const double sc = scale == 0.0f ? 1.0 / std::sqrt(static_cast<double>(hd)) : scale;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t first = window > 0 ? std::max<int64_t>(0, t - window + 1) : 0;
      std::vector<double> p;
      double mx = -1e300, sum = 0;
      for (int64_t s = first; s <= t; ++s) {
        double dot = 0;
        for (int64_t i = 0; i < hd; ++i) dot += static_cast<double>(q[t * hd + i]) * k[s * hd + i];
        p.push_back(cap > 0 ? cap * std::tanh(dot * sc / cap) : dot * sc);
        mx = std::max(mx, p.back());
      }
      for (double& x : p) sum += (x = std::exp(x - mx));
      for (int64_t i = 0; i < hd; ++i) {
        double o = 0;
        for (int64_t s = first; s <= t; ++s) o += p[static_cast<size_t>(s - first)] / sum * v[s * hd + i];
        CHECK(out[t * hd + i] == Approx(o).margin(1e-5));
      }
    }
  }
}

TEST_CASE("layer_norm: mean-centred, unit variance, scaled by the weight (Command-R)", "[ops]") {
  const std::vector<float> x = {1.0f, 2.0f, 3.0f, 6.0f};  // mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
  const std::vector<float> w = {1.0f, 2.0f, -1.0f, 0.5f};
  std::vector<float> y(4);
  cpu::layer_norm(x.data(), w.data(), 1, 4, 1e-5, y.data());
  const double inv = 1.0 / std::sqrt(3.5 + 1e-5);
  const double want[] = {-2 * inv, -1 * inv * 2, 0.0, 3 * inv * 0.5};
  for (int i = 0; i < 4; ++i) CHECK(y[i] == Approx(want[i]).margin(1e-6));
}

TEST_CASE("rope: partial rotary dimensions, per-frequency divisors and LongRoPE's cos/sin factor", "[ops]") {
  // One head of 8 with 6 dimensions rotary, neox pairs (i, i + 3), against the
  // rotation written out: angle = pos * base^(-2i/6) / f[i], values scaled by m.
  const int64_t hd = 8, n_rot = 6;
  const std::vector<float> f = {1.0f, 2.5f, 4.0f};
  const double base = 100.0, m = 1.25;
  std::vector<float> x(hd);
  for (int64_t i = 0; i < hd; ++i) x[i] = 0.5f + static_cast<float>(i);
  for (bool neox : {true, false}) {
    std::vector<float> y = x;
    const int64_t pos[] = {7};
    cpu::RopeSpec spec;
    spec.base = base, spec.neox = neox, spec.freq_factors = f.data(), spec.n_rot = n_rot, spec.mscale = m;
    cpu::rope(y.data(), 1, 1, hd, pos, spec);
    for (int64_t i = 0; i < n_rot / 2; ++i) {
      const double th = 7.0 * std::pow(base, -2.0 * i / n_rot) / f[i];
      const int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
      CHECK(y[a] == Approx(m * (x[a] * std::cos(th) - x[b] * std::sin(th))).margin(1e-5));
      CHECK(y[b] == Approx(m * (x[a] * std::sin(th) + x[b] * std::cos(th))).margin(1e-5));
    }
    CHECK(y[6] == x[6]);  // past n_rot: untouched, unscaled
    CHECK(y[7] == x[7]);
  }
}
