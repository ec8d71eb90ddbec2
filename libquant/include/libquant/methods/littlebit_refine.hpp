#pragma once
// Activation-aware refinement of LittleBit factors. Dual-SVID only fits W in
// the Frobenius norm and then throws most of the fit away when it takes
// signs; here the latent factors and scales of all paths are optimized
// together, with Adam, to reproduce the layer's outputs on calibration
// inputs Z [K, n]:
//     loss = ||Z W^T - Z W_hat^T||^2 / ||Z W^T||^2.
// Signs pass gradients through a smooth sign (d/dx tanh(k x / s), s = the
// latent matrix's RMS at the start, the STE of the paper's QAT). The best
// state seen is kept, so refinement never ends worse than it started.
#include <cstdint>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/methods/littlebit.hpp"

namespace libquant::methods {

struct LittleBitRefineOptions {
  int steps = 100;
  double lr = 0.05;         // Adam step, relative to each tensor's RMS at the start
  double smooth_k = 1.0;    // sharpness of the smooth sign (in units of the latent RMS)
  bool train_signs = true;  // false: scales only
  // Rows per step: 0 = all of them, unless a full step would cost more than
  // 2e9 multiply-adds (K r (m + n)); then minibatches of 512 random rows.
  int64_t batch_rows = 0;
  uint64_t seed = 0;  // minibatch selection
};

struct LittleBitRefineStats {
  double loss_before = 0;  // relative output error of the binarized start
  double loss_after = 0;   // of the best state (what the latents hold on return)
  int steps = 0;
};

// z [K, n] row-major calibration inputs; null means Z = I (weight space).
LIBQUANT_API LittleBitRefineStats refine_littlebit(std::vector<LittleBitLatent>& paths, const float* w, const float* z,
                                                   int64_t K, const LittleBitRefineOptions& opts);

// The relative output error of binarized factors on z (as above).
LIBQUANT_API double littlebit_output_error(const LittleBitFactors& f, const float* w, const float* z, int64_t K);

}  // namespace libquant::methods
