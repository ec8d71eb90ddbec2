#pragma once
// Block-output matching, LittleBit's second fitting stage. Per-weight
// refinement (littlebit_refine.hpp) fits each linear to its own outputs,
// blind to how the errors of q, k, v, o, gate, up and down combine through
// softmax attention, SiLU gating and the residual stream. Here the factors of
// all seven linears of one decoder block are trained together (Adam, the same
// smooth-sign STE) so that the block maps its inputs X to the target outputs:
//     loss = ||block(X; W_hat) - Y||^2 / ||Y - X||^2,
// with gradients through the whole block (eval/decoder_block_grad). Callers
// choose X and Y; littlebit compress feeds the compressed model's states and
// the original model's outputs, so each block also corrects what the blocks
// before it got wrong. The best state seen is kept.
#include <array>
#include <cstdint>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::methods {

struct LittleBitBlockOptions {
  int steps = 50;
  // Adam steps relative to each tensor's RMS at the start: the scales h, l, g,
  // and the latent sign factors. Sign flips driven by the noisy block
  // gradient mostly hurt (SmolLM2: scales alone did better on most blocks),
  // so latents move far less, or not at all with latent_lr = 0.
  double lr = 0.03;
  double latent_lr = 0.0;
  double smooth_k = 1.0;  // smooth-sign sharpness (in units of the latent RMS)
};

struct LittleBitBlockStats {
  double loss_before = 0;  // relative block output error of the factors as given
  double loss_after = 0;   // of the best state (what the latents hold on return)
  int steps = 0;
};

// The block's linears in this order: attn_q, attn_k, attn_v, attn_output,
// ffn_gate, ffn_up, ffn_down (each one or two paths, as dual_svid_init made
// them). Norms and biases of block `layer` are read from `model`. x and
// target are [batch * seq, hidden], batch sequences of seq tokens from
// position 0. Throws Error(UnsupportedConversion) for blocks with q/k norms.
LIBQUANT_API LittleBitBlockStats refine_littlebit_block(const model::TensorSource& model, int layer,
                                                        const std::array<std::vector<LittleBitLatent>*, 7>& linears,
                                                        const float* x, const float* target, int64_t batch, int64_t seq,
                                                        const LittleBitBlockOptions& opts);

// The same relative error for dense weights (the original model's, or a
// reconstruction), in the order above, each row-major [out, in].
LIBQUANT_API double decoder_block_output_error(const model::TensorSource& model, int layer,
                                               const std::array<const float*, 7>& weights, const float* x,
                                               const float* target, int64_t batch, int64_t seq);

}  // namespace libquant::methods
