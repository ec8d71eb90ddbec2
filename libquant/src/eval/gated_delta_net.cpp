#include "gated_delta_net.hpp"

#include <cmath>
#include <vector>

#include "../cpu/ops.hpp"
#include "hook_site.hpp"
#include "libquant/core/thread_pool.hpp"

namespace libquant::eval {

namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// x (n values) scaled to unit L2 norm as FLA / transformers do: x / sqrt(sum x^2 + eps).
void l2_normalize(float* x, int64_t n, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const auto inv = static_cast<float>(1.0 / std::sqrt(ss + eps));
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace

void gated_delta_net(const DeltaNetWeights& w, const model::ModelConfig& cfg, int layer, const float* xn, int64_t B,
                     int64_t T, float* out, ThreadPool& pool, calib::LinearHook* hook) {
  const int64_t N = B * T, d = cfg.hidden_size, nk = cfg.ssm_groups, dk = cfg.ssm_state_size, nv = cfg.ssm_heads;
  const int64_t dv = cfg.ssm_head_dim(), C = cfg.ssm_conv_channels(), taps = cfg.ssm_conv_kernel, vd = nv * dv;
  const HookSite site{hook, layer};
  const bool grouped = cfg.arch()->grouped_value_heads;
  for (const char* what : {"attn_qkv.weight", "attn_gate.weight"}) site.input(what, xn, N, d);
  if (grouped)
    site.input("ssm_ba.weight", xn, N, d);
  else
    for (const char* what : {"ssm_beta.weight", "ssm_alpha.weight"}) site.input(what, xn, N, d);
  std::vector<float> qkv(static_cast<size_t>(N * C)), z(static_cast<size_t>(N * vd)), beta(static_cast<size_t>(N * nv)),
      alpha(beta.size());
  apply_linear(w.qkv, xn, N, nullptr, qkv.data(), pool);
  apply_linear(w.gate, xn, N, nullptr, z.data(), pool);
  if (grouped) {  // per key head k: [beta of its value heads | alpha of them]
    std::vector<float> ba(static_cast<size_t>(N * 2 * nv));
    apply_linear(w.ba, xn, N, nullptr, ba.data(), pool);
    const int64_t r = nv / nk;
    for (int64_t row = 0; row < N; ++row)
      for (int64_t h = 0; h < nv; ++h) {
        const int64_t k = h / r, j = h % r;
        beta[static_cast<size_t>(row * nv + h)] = ba[static_cast<size_t>(row * 2 * nv + k * 2 * r + j)];
        alpha[static_cast<size_t>(row * nv + h)] = ba[static_cast<size_t>(row * 2 * nv + k * 2 * r + r + j)];
      }
  } else {
    apply_linear(w.beta, xn, N, nullptr, beta.data(), pool);
    apply_linear(w.alpha, xn, N, nullptr, alpha.data(), pool);
  }

  // Causal depthwise convolution (zeros before the first token) and SiLU, then
  // the L2-normalised, scaled queries and keys; one sequence per task.
  std::vector<float> mixed(qkv.size());
  const float* cw = w.conv.data_as<float>();
  const auto q_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dk)));
  const double eps = cfg.rms_norm_eps;
  pool.parallel_for(static_cast<size_t>(B), 1, [&](size_t a, size_t b) {
    for (size_t s = a; s < b; ++s) {
      const int64_t r0 = static_cast<int64_t>(s) * T;
      cpu::causal_conv1d_silu(qkv.data() + r0 * C, C, T, C, cw, taps, nullptr, mixed.data() + r0 * C);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t r = r0 + t;
        float* row = mixed.data() + r * C;
        for (int64_t h = 0; h < 2 * nk; ++h) l2_normalize(row + h * dk, dk, eps);
        for (int64_t i = 0; i < nk * dk; ++i) row[i] *= q_scale;
      }
    }
  });

  // The recurrence, one (sequence, value head) pair per task; each owns its state.
  const float* A = w.a.data_as<float>();
  const float* dt_bias = w.dt_bias.data_as<float>();
  std::vector<float> o(static_cast<size_t>(N * vd));
  pool.parallel_for(static_cast<size_t>(B * nv), 1, [&](size_t a, size_t b) {
    std::vector<float> S(static_cast<size_t>(dk * dv)), delta(static_cast<size_t>(dv));
    for (size_t i = a; i < b; ++i) {
      const int64_t s = static_cast<int64_t>(i) / nv, h = static_cast<int64_t>(i) % nv;
      const int64_t kh = grouped ? h / (nv / nk) : h % nk;
      std::fill(S.begin(), S.end(), 0.0f);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t r = s * T + t;
        const float* q = mixed.data() + r * C + kh * dk;
        const float* k = mixed.data() + r * C + nk * dk + kh * dk;
        const float* v = mixed.data() + r * C + 2 * nk * dk + h * dv;
        const float decay = std::exp(A[h] * cpu::softplus(alpha[static_cast<size_t>(r * nv + h)] + dt_bias[h]));
        const float bt = sigmoid(beta[static_cast<size_t>(r * nv + h)]);
        for (float& x : S) x *= decay;
        for (int64_t j = 0; j < dv; ++j) {
          float mem = 0.0f;
          for (int64_t e = 0; e < dk; ++e) mem += S[static_cast<size_t>(e * dv + j)] * k[e];
          delta[static_cast<size_t>(j)] = (v[j] - mem) * bt;
        }
        float* orow = o.data() + r * vd + h * dv;
        for (int64_t j = 0; j < dv; ++j) orow[j] = 0.0f;
        for (int64_t e = 0; e < dk; ++e) {
          float* Se = S.data() + e * dv;
          for (int64_t j = 0; j < dv; ++j) {
            Se[j] += k[e] * delta[static_cast<size_t>(j)];
            orow[j] += Se[j] * q[e];
          }
        }
      }
    }
  });

  // RMSNorm per head (weight ssm_norm), then gated by SiLU(z).
  for (int64_t r = 0; r < N; ++r) {
    float* orow = o.data() + r * vd;
    cpu::rms_norm(orow, w.norm.data_as<float>(), nv, dv, eps, orow);
    cpu::silu_mul(z.data() + r * vd, orow, orow, vd);
  }
  site.input("ssm_out.weight", o.data(), N, vd);
  apply_linear(w.out, o.data(), N, nullptr, out, pool);
}

}  // namespace libquant::eval
