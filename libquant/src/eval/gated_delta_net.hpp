#pragma once
// The gated DeltaNet (linear attention) of Qwen3.5 and Qwen3-Next, computed as
// its recurrence, token by token, which is what transformers' chunked form and
// llama.cpp's gated_delta_net op evaluate. Value head h reads key head
// h % key_heads in Qwen3.5's GGUF order (tiled), h / (value_heads / key_heads)
// in Qwen3-Next's (grouped; beta and alpha then come from one ssm_ba):
//   qkv = silu(causal depthwise conv1d(attn_qkv(x)));  q, k: key heads of dk, v: value heads of dv
//   q, k = l2norm(q), l2norm(k);  q /= sqrt(dk)
//   beta = sigmoid(ssm_beta(x));  g = A * softplus(ssm_alpha(x) + dt_bias)     (A = -exp(A_log) < 0)
//   per value head, state S[dk][dv] from zero:
//     S *= exp(g);  S += k (beta (v - S^T k))^T;  o = S^T q
//   o = RMSNorm(o) * ssm_norm * silu(attn_gate(x)) per head;  out = ssm_out(o)
#include <cstdint>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/model/model_config.hpp"
#include "linear_weight.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::eval {

struct DeltaNetWeights {
  LinearWeight qkv, gate, beta, alpha, out;  // attn_qkv, attn_gate, ssm_beta, ssm_alpha, ssm_out
  LinearWeight ba;  // Qwen3-Next: ssm_ba, per key head [beta (value heads of the group) | alpha] (then no beta, alpha)
  Tensor conv;      // ssm_conv1d [q|k|v channels, taps] (no bias)
  Tensor dt_bias, a, norm;  // ssm_dt.bias [value heads], ssm_a = -exp(A_log), ssm_norm [dv]
};

// out[B*T, hidden] = the DeltaNet of normed input xn[B*T, hidden], B sequences of T
// tokens. Calibration hooks see the inputs of attn_qkv, attn_gate, ssm_beta,
// ssm_alpha and ssm_out.
void gated_delta_net(const DeltaNetWeights& w, const model::ModelConfig& cfg, int layer, const float* xn, int64_t B,
                     int64_t T, float* out, ThreadPool& pool, calib::LinearHook* hook);

}  // namespace libquant::eval
