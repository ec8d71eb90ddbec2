#include "libquant/methods/littlebit_block.hpp"

#include "libquant/backend/backend.hpp"

#include "libquant/eval/decoder_block_grad.hpp"
#include "littlebit_adam.hpp"

namespace libquant::methods {
namespace {

using detail::AdamParam;

// C[M, N] = op(A) op(B), row-major.
void mm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* a, const float* b, float* c) {
  backend::active().gemm_f32(ta, tb, M, N, K, 1.0f, a, ta ? M : K, b, tb ? K : N, 0.0f, c, N);
}

// One path's dense pieces: A = S_U diag(l) [m, r], B = S_V diag(g) [r, n],
// M = A B (so the path's weight is diag(h) M).
struct PathDense {
  std::vector<float> a, b, m;
};

// One factorized linear: its paths, their Adam state and the dense weight.
class FactorizedLinear {
 public:
  FactorizedLinear(std::vector<LittleBitLatent>& paths, double lr, double latent_lr)
      : paths_(paths), dense_(paths.size()), train_latents_(latent_lr > 0) {
    params_.resize(paths.size() * detail::kLatentTensors);
    for (size_t p = 0; p < paths.size(); ++p) {
      AdamParam* P = &params_[p * detail::kLatentTensors];
      detail::init_path_params(paths[p], lr, P);
      P[detail::kLatentU].init(&paths[p].u, latent_lr);
      P[detail::kLatentV].init(&paths[p].v, latent_lr);
      latent_rms_.push_back(detail::rms(paths[p].u));
      latent_rms_.push_back(detail::rms(paths[p].v));
    }
  }

  // W_hat = sum_p diag(h) S_U diag(l) S_V diag(g) from the current latents.
  const float* reconstruct() {
    const LittleBitLatent& L0 = paths_[0];
    const int64_t m = L0.m, n = L0.n, r = L0.r;
    w_.assign(static_cast<size_t>(m * n), 0.0f);
    for (size_t p = 0; p < paths_.size(); ++p) {
      const LittleBitLatent& L = paths_[p];
      PathDense& D = dense_[p];
      D.a.resize(static_cast<size_t>(m * r));
      D.b.resize(static_cast<size_t>(r * n));
      D.m.resize(static_cast<size_t>(m * n));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t q = 0; q < r; ++q) D.a[i * r + q] = (L.u[i * r + q] < 0 ? -L.l[q] : L.l[q]);
      for (int64_t q = 0; q < r; ++q)
        for (int64_t j = 0; j < n; ++j) D.b[q * n + j] = (L.v[q * n + j] < 0 ? -L.g[j] : L.g[j]);
      mm(false, false, m, n, r, D.a.data(), D.b.data(), D.m.data());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) w_[i * n + j] += L.h[i] * D.m[i * n + j];
    }
    return w_.data();
  }

  // dW [m, n] of the last reconstruct() -> gradients of every path's tensors.
  void backward(const std::vector<float>& dw, double smooth_k) {
    const int64_t m = paths_[0].m, n = paths_[0].n, r = paths_[0].r;
    std::vector<float> hg(static_cast<size_t>(m * n)), da(static_cast<size_t>(m * r)), db(static_cast<size_t>(r * n));
    for (size_t p = 0; p < paths_.size(); ++p) {
      const LittleBitLatent& L = paths_[p];
      const PathDense& D = dense_[p];
      AdamParam* P = &params_[p * detail::kLatentTensors];
      for (int64_t i = 0; i < m; ++i) {
        double dh = 0;
        for (int64_t j = 0; j < n; ++j) {
          dh += double(dw[i * n + j]) * D.m[i * n + j];
          hg[i * n + j] = L.h[i] * dw[i * n + j];
        }
        P[detail::kScaleH].grad[i] = static_cast<float>(dh);
      }
      mm(false, true, m, r, n, hg.data(), D.b.data(), da.data());  // dA = diag(h) dW B^T
      mm(true, false, r, n, m, D.a.data(), hg.data(), db.data());  // dB = A^T diag(h) dW
      std::vector<float>& dl = P[detail::kScaleL].grad;
      std::fill(dl.begin(), dl.end(), 0.0f);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t q = 0; q < r; ++q) {
          const float s = L.u[i * r + q] < 0 ? -1.0f : 1.0f;
          dl[q] += da[i * r + q] * s;
          P[detail::kLatentU].grad[i * r + q] = da[i * r + q] * L.l[q];
        }
      std::vector<float>& dg = P[detail::kScaleG].grad;
      std::fill(dg.begin(), dg.end(), 0.0f);
      for (int64_t q = 0; q < r; ++q)
        for (int64_t j = 0; j < n; ++j) {
          const float s = L.v[q * n + j] < 0 ? -1.0f : 1.0f;
          dg[j] += db[q * n + j] * s;
          P[detail::kLatentV].grad[q * n + j] = db[q * n + j] * L.g[j];
        }
      detail::smooth_sign_backward(L.u, smooth_k / latent_rms_[p * 2], P[detail::kLatentU].grad);
      detail::smooth_sign_backward(L.v, smooth_k / latent_rms_[p * 2 + 1], P[detail::kLatentV].grad);
    }
  }

  void update(int t, double decay) {
    for (size_t i = 0; i < params_.size(); ++i)
      if (train_latents_ || i % detail::kLatentTensors >= detail::kScaleH) params_[i].update(t, decay);
  }

  std::vector<LittleBitLatent>& paths() { return paths_; }

 private:
  std::vector<LittleBitLatent>& paths_;
  std::vector<PathDense> dense_;
  std::vector<AdamParam> params_;
  std::vector<double> latent_rms_;
  std::vector<float> w_;
  bool train_latents_;
};

}  // namespace

LittleBitBlockStats refine_littlebit_block(const model::TensorSource& model, int layer,
                                           const std::array<std::vector<LittleBitLatent>*, 7>& linears, const float* x,
                                           const float* target, int64_t batch, int64_t seq,
                                           const LittleBitBlockOptions& opts) {
  static_assert(eval::kBlockLinears == 7);
  eval::DecoderBlockGrad block(eval::load_block_constants(model, layer), batch, seq);
  std::vector<FactorizedLinear> lin;
  lin.reserve(7);
  for (auto* paths : linears) lin.emplace_back(*paths, opts.lr, opts.latent_lr);
  std::array<std::vector<float>, eval::kBlockLinears> dw;
  const auto snapshot = [&] {
    std::array<std::vector<LittleBitLatent>, 7> s;
    for (int i = 0; i < 7; ++i) s[i] = *linears[i];
    return s;
  };
  const auto evaluate = [&](bool grad) {
    std::array<const float*, eval::kBlockLinears> w{};
    for (int i = 0; i < 7; ++i) w[i] = lin[i].reconstruct();
    block.forward(x, w, nullptr);
    return block.backward(target, grad ? &dw : nullptr);
  };

  LittleBitBlockStats st;
  auto best = snapshot();
  double best_loss = -1;
  for (int t = 1; t <= opts.steps + 1; ++t) {
    // Step t evaluates the state after t - 1 updates; the last one only evaluates.
    const bool last = t == opts.steps + 1;
    const double loss = evaluate(!last);
    if (t == 1) st.loss_before = loss;
    if (best_loss < 0 || loss < best_loss) {
      best_loss = loss;
      if (t > 1) best = snapshot();
    }
    if (last) break;
    for (int i = 0; i < 7; ++i) lin[i].backward(dw[i], opts.smooth_k);
    const double decay = detail::cosine_decay(t, opts.steps);
    for (auto& l : lin) l.update(t, decay);
    ++st.steps;
  }
  for (int i = 0; i < 7; ++i) *linears[i] = std::move(best[i]);
  st.loss_after = best_loss;
  return st;
}

double decoder_block_output_error(const model::TensorSource& model, int layer,
                                  const std::array<const float*, 7>& weights, const float* x, const float* target,
                                  int64_t batch, int64_t seq) {
  eval::DecoderBlockGrad block(eval::load_block_constants(model, layer), batch, seq);
  block.forward(x, weights, nullptr);
  return block.backward(target, nullptr);
}

}  // namespace libquant::methods
