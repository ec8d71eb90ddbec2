#include "mamba2_mixer.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../cpu/ops.hpp"
#include "hook_site.hpp"
#include "libquant/core/thread_pool.hpp"

namespace libquant::eval {

void mamba2_mixer(const Mamba2Weights& w, const model::ModelConfig& cfg, int layer, const float* xn, int64_t B,
                  int64_t T, float* out, ThreadPool& pool, calib::LinearHook* hook) {
  const int64_t N = B * T, d = cfg.hidden_size, di = cfg.ssm_inner_size, H = cfg.ssm_heads, G = cfg.ssm_groups;
  const int64_t S = cfg.ssm_state_size, P = cfg.ssm_head_dim(), C = cfg.ssm_conv_channels();
  const int64_t width = di + C + H;  // z | xBC | dt
  const HookSite site{hook, layer};
  site.input("ssm_in.weight", xn, N, d);
  std::vector<float> proj(static_cast<size_t>(N * width));
  apply_linear(w.in, xn, N, nullptr, proj.data(), pool);

  std::vector<float> xbc(static_cast<size_t>(N * C)), y(static_cast<size_t>(N * di));
  const float* bias = w.conv_bias.nbytes() ? w.conv_bias.data_as<float>() : nullptr;
  pool.parallel_for(static_cast<size_t>(B), 1, [&](size_t a, size_t b) {
    for (size_t s = a; s < b; ++s) {
      const int64_t r0 = static_cast<int64_t>(s) * T;
      cpu::causal_conv1d_silu(proj.data() + r0 * width + di, width, T, C, w.conv.data_as<float>(), cfg.ssm_conv_kernel,
                              bias, xbc.data() + r0 * C);
    }
  });

  // The scan, one (sequence, head) pair per task; each owns its state.
  const float* A = w.a.data_as<float>();
  const float* D = w.d.data_as<float>();
  const float* dt_bias = w.dt_bias.data_as<float>();
  const int64_t heads_per_group = H / G;
  pool.parallel_for(static_cast<size_t>(B * H), 1, [&](size_t a, size_t b) {
    std::vector<float> state(static_cast<size_t>(P * S));
    for (size_t i = a; i < b; ++i) {
      const int64_t s = static_cast<int64_t>(i) / H, h = static_cast<int64_t>(i) % H, g = h / heads_per_group;
      std::fill(state.begin(), state.end(), 0.0f);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t r = s * T + t;
        float dt = cpu::softplus(proj[static_cast<size_t>(r * width + di + C + h)] + dt_bias[h]);
        if (cfg.ssm_dt_min > 0.0) dt = std::max(dt, static_cast<float>(cfg.ssm_dt_min));
        if (cfg.ssm_dt_max > 0.0) dt = std::min(dt, static_cast<float>(cfg.ssm_dt_max));
        const float decay = std::exp(dt * A[h]);
        const float* x = xbc.data() + r * C + h * P;
        const float* Bv = xbc.data() + r * C + di + g * S;
        const float* Cv = xbc.data() + r * C + di + G * S + g * S;
        float* yr = y.data() + r * di + h * P;
        for (int64_t p = 0; p < P; ++p) {
          float* st = state.data() + p * S;
          const float dx = dt * x[p];
          float acc = 0.0f;
          for (int64_t n = 0; n < S; ++n) {
            st[n] = st[n] * decay + dx * Bv[n];
            acc += st[n] * Cv[n];
          }
          yr[p] = acc + D[h] * x[p];
        }
      }
    }
  });

  // Gate by SiLU(z), then RMSNorm over each group's channels, scaled by the norm weight.
  const int64_t gs = di / G;
  for (int64_t r = 0; r < N; ++r) {
    float* yr = y.data() + r * di;
    const float* z = proj.data() + r * width;
    cpu::silu_mul(z, yr, yr, di);
    for (int64_t g = 0; g < G; ++g)
      cpu::rms_norm(yr + g * gs, w.norm.data_as<float>() + g * gs, 1, gs, cfg.rms_norm_eps, yr + g * gs);
  }
  site.input("ssm_out.weight", y.data(), N, di);
  apply_linear(w.out, y.data(), N, nullptr, out, pool);
}

}  // namespace libquant::eval
