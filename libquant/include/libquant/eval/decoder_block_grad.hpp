#pragma once
// One Llama-family decoder block, forward and backward, for methods that fit
// a block's weights to its outputs (LittleBit block-output matching):
//
//   a = x + Wo attn(rope(Wq n1(x) + bq), rope(Wk n1(x) + bk), Wv n1(x) + bv)
//   y = a + Wd (silu(Wg n2(a)) * Wu n2(a))
//
// loss = ||y - target||^2 / ||target - x||^2 (the error relative to what the
// block adds to the residual stream). Gradients are returned for the seven
// weight matrices only; the input, norms and biases are constants. Same
// arithmetic as eval::Transformer's f32 path (double norm sums, exact
// softmax), so with the model's weights y equals run_layer's output.
// Blocks with q/k RMSNorm (Qwen3) are not covered.
#include <array>
#include <cstdint>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::eval {

enum BlockLinear { kQ, kK, kV, kO, kGate, kUp, kDown, kBlockLinears };

// The block's GGUF weight suffixes in BlockLinear order ("attn_q.weight", ...).
LIBQUANT_API const std::array<const char*, kBlockLinears>& block_linear_names();

// Everything of a block that is not optimized.
struct DecoderBlockConstants {
  int64_t hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ff = 0;
  double eps = 1e-5, rope_theta = 10000, pos_scale = 1;
  bool neox = false;
  std::vector<float> rope_freqs;           // empty: none
  std::vector<float> attn_norm, ffn_norm;  // [hidden]
  std::vector<float> bq, bk, bv;           // empty: no bias
};

// Throws UnsupportedConversion (suggesting --block-steps 0) when block
// `layer` of the model is one this module cannot differentiate: no forward
// pass for the architecture, or q/k-normed attention (Qwen3). Jobs call it
// before any work so that such a model fails at once, not after a layer.
LIBQUANT_API void check_block_supported(const model::TensorSource& src, int layer);

// Reads block `layer`'s constants from a model; throws as check_block_supported.
LIBQUANT_API DecoderBlockConstants load_block_constants(const model::TensorSource& src, int layer);

class LIBQUANT_API DecoderBlockGrad {
 public:
  // B sequences of T tokens (positions 0..T-1 each).
  DecoderBlockGrad(DecoderBlockConstants c, int64_t batch, int64_t seq);

  // y [B*T, hidden] of x under weights w (row-major [out, in]); keeps what
  // backward() needs.
  void forward(const float* x, const std::array<const float*, kBlockLinears>& w, float* y);
  // Relative loss of the last forward against target, and (when dw is not
  // null) its gradient with respect to each weight, same layout as w.
  double backward(const float* target, std::array<std::vector<float>, kBlockLinears>* dw);

  int64_t tokens() const noexcept { return N_; }

 private:
  DecoderBlockConstants c_;
  int64_t B_, T_, N_;
  std::array<const float*, kBlockLinears> w_{};
  const float* x_ = nullptr;
  std::vector<int64_t> pos_, neg_pos_;
  // Saved activations: inverse RMS of x and a, normalized inputs, rotated q/k, v,
  // attention probabilities per (sequence, head), attention output, a, MLP.
  std::vector<float> r1_, r2_, xn1_, q_, k_, v_, p_, o_, a_, xn2_, g_, u_, s_, y_;
};

}  // namespace libquant::eval
