#pragma once
// LittleBit (arXiv 2506.13771): a weight W [m, n] is replaced by one or two
// "paths" of binary latent factors with 16-bit scales,
//     W ~ sum_p diag(h_p) S_U,p diag(l_p) S_V,p diag(g_p),
// S_U,p in {-1,+1}^{m x r}, S_V,p in {-1,+1}^{r x n}, h in R^m, l in R^r,
// g in R^n. The second (residual) path factorizes what the first leaves.
//
// Initialization is the paper's Dual-SVID: a rank-r SVD with the singular
// values split evenly (U' = U sqrt(S), V' = V sqrt(S)), signs from U', V',
// and rank-1 approximations |U'| ~ h l_u^T, |V'| ~ g l_v^T, l = l_u * l_v.
// That start alone is poor; LittleBitRefiner (littlebit_refine.hpp) then
// fits the latent factors to the layer's calibration activations.
//
// Bits per weight, as the paper counts them (one l per path, 16-bit scales):
//     bpw = P (r (m + n + 16) + 16 (m + n)) / (m n).
#include <cstdint>
#include <string>
#include <vector>

#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/cpu/truncated_svd.hpp"
#include "libquant/export.hpp"

namespace libquant::methods {

inline constexpr double kLittleBitMinBpw = 0.1;
inline constexpr double kLittleBitMaxBpw = 2.0;
inline constexpr int64_t kLittleBitMinRank = 8;

using cpu::littlebit_bpw;
// The rank the paper's rule gives for a target: (m n t - 16 P (m + n)) /
// (P (m + n + 16)), times kv_factor, truncated to a multiple of 8, at least
// min_rank (and at most min(m, n)).
LIBQUANT_API int64_t littlebit_rank_for_bpw(int64_t m, int64_t n, double target_bpw, int paths, double kv_factor = 1.0,
                                            int64_t min_rank = kLittleBitMinRank) noexcept;

using cpu::LittleBitFactors;
using cpu::LittleBitPath;

// The real-valued state of one path before binarization: latent U [m, r],
// V [r, n] (signs are taken from them) and the scales, in f32.
struct LittleBitLatent {
  int64_t m = 0, n = 0, r = 0;
  std::vector<float> u, v, h, l, g;
};

struct LittleBitInitOptions {
  int64_t rank = 0;
  bool residual = true;
  cpu::SvdOptions svd;
};

// Dual-SVID of w [m, n] (and of its residual after the binarized first
// path). Throws Error(FactorizationFailed) for non-finite weights.
LIBQUANT_API std::vector<LittleBitLatent> dual_svid_init(const float* w, int64_t m, int64_t n,
                                                         const LittleBitInitOptions& opts);
// Signs of the latents, scales rounded to f16.
LIBQUANT_API LittleBitPath binarize(const LittleBitLatent& p);
LIBQUANT_API LittleBitFactors binarize(const std::vector<LittleBitLatent>& paths);

// ||W - W_hat||_F / ||W||_F.
LIBQUANT_API double relative_frobenius_error(const float* w, const std::vector<float>& w_hat);

}  // namespace libquant::methods
