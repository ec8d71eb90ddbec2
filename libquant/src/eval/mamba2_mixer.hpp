#pragma once
// Mamba-2's state-space mixer (the "SSD" layer), computed as its recurrence,
// token by token, which is what both transformers' chunked form and
// llama.cpp's ssm_scan evaluate:
//   in_proj -> z | xBC | dt;  xBC = silu(causal depthwise conv1d(xBC) + bias)
//   dt = softplus(dt + dt_bias);  per head h, channel p, state n:
//     s[p][n] = s[p][n] * exp(dt * A[h]) + dt * x[p] * B[g(h)][n]
//     y[p]    = sum_n s[p][n] * C[g(h)][n] + D[h] * x[p]
//   y = RMSNorm_per_group(y * silu(z)) * norm;  out = out_proj(y)
// The state starts at zero for each sequence (a prompt); g(h) = h / (heads / groups).
#include <cstdint>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/model/model_config.hpp"
#include "linear_weight.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::eval {

struct Mamba2Weights {
  LinearWeight in, out;        // ssm_in [z | xBC | dt rows, hidden], ssm_out [hidden, inner]
  Tensor conv, conv_bias;      // ssm_conv1d [channels, taps] and its bias (empty without one)
  Tensor dt_bias, a, d, norm;  // ssm_dt.bias [heads], ssm_a = -exp(A_log) [heads, 1], ssm_d [heads, 1], ssm_norm
};

// out[B*T, hidden] = the mixer of normed input xn[B*T, hidden], B sequences of T
// tokens. Calibration hooks see ssm_in's and ssm_out's inputs.
void mamba2_mixer(const Mamba2Weights& w, const model::ModelConfig& cfg, int layer, const float* xn, int64_t B,
                  int64_t T, float* out, ThreadPool& pool, calib::LinearHook* hook);

}  // namespace libquant::eval
