#include "libquant/methods/littlebit_refine.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "libquant/backend/backend.hpp"
#include "littlebit_adam.hpp"

namespace libquant::methods {
namespace {

// With more calibration rows than inputs, the objective only depends on
// H = Z^T Z: replace Z [K, n] by R [n, n] with R^T R = H (Cholesky, a tiny
// ridge keeps it positive definite). Same loss and gradients, K/n times
// cheaper steps.
std::vector<float> reduce_rows(const float* z, int64_t K, int64_t n) {
  backend::Backend& be = backend::active();
  std::vector<double> h(static_cast<size_t>(n * n), 0.0);
  be.accumulate_xtx(z, K, n, h.data());
  double trace = 0;
  for (int64_t i = 0; i < n; ++i) trace += h[i * n + i];
  const double ridge = 1e-8 * trace / static_cast<double>(n) + 1e-30;
  for (int64_t i = 0; i < n; ++i) h[i * n + i] += ridge;
  if (!be.cholesky(h.data(), n)) return {};
  // H = L L^T, so R = L^T: R[i][j] = L[j][i] for j >= i.
  std::vector<float> r(static_cast<size_t>(n * n), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) r[i * n + j] = static_cast<float>(h[j * n + i]);
  return r;
}

// C[M, N] = op(A) op(B), row-major.
void mm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* a, const float* b, float* c, float beta = 0) {
  backend::active().gemm_f32(ta, tb, M, N, K, 1.0f, a, ta ? M : K, b, tb ? K : N, beta, c, N);
}

// Above this many multiply-adds per full-batch step (K r (m + n)), steps use
// minibatches of kAutoBatchRows rows. SmolLM2-sized layers stay full-batch.
constexpr double kFullBatchWork = 2e9;
constexpr int64_t kAutoBatchRows = 512;

using detail::AdamParam;
using detail::rms;

// The forward pass of all paths on z, keeping what the backward pass needs.
struct PathWork {
  std::vector<float> su, sv, svg;  // +-1 as floats [m, r], [r, n]; S_V * g [r, n]
  std::vector<float> b, c, d;      // Z (S_V g)^T [K,r], b*l [K,r], c S_U^T [K,m]
};

class Problem {
 public:
  Problem(std::vector<LittleBitLatent>& paths, const float* w, const float* z, int64_t K)
      : paths_(paths), m_(paths[0].m), n_(paths[0].n), r_(paths[0].r), K_(z ? K : paths[0].n), work_(paths.size()) {
    // With no calibration inputs Z is the identity: the loss is the weight error.
    if (!z) {
      eye_.assign(static_cast<size_t>(n_ * n_), 0.0f);
      for (int64_t i = 0; i < n_; ++i) eye_[i * n_ + i] = 1.0f;
      z = eye_.data();
    }
    z_ = z;
    target_.resize(static_cast<size_t>(K_ * m_));
    mm(false, true, K_, m_, n_, z_, w, target_.data());  // Z W^T
    double s = 0;
    for (float v : target_) s += double(v) * v;
    norm_ = std::max(s, 1e-30);
    use_all_rows();
  }

  int64_t rows() const noexcept { return K_; }
  // The steps that follow see only these rows (a minibatch), or all of them.
  void use_rows(const std::vector<int64_t>& idx) {
    kk_ = static_cast<int64_t>(idx.size());
    bz_.resize(static_cast<size_t>(kk_ * n_));
    bt_.resize(static_cast<size_t>(kk_ * m_));
    double s = 0;
    for (int64_t b = 0; b < kk_; ++b) {
      std::copy(z_ + idx[b] * n_, z_ + (idx[b] + 1) * n_, bz_.begin() + b * n_);
      std::copy(target_.begin() + idx[b] * m_, target_.begin() + (idx[b] + 1) * m_, bt_.begin() + b * m_);
      for (int64_t i = 0; i < m_; ++i) s += double(bt_[b * m_ + i]) * bt_[b * m_ + i];
    }
    az_ = bz_.data();
    at_ = bt_.data();
    anorm_ = std::max(s, 1e-30);
  }
  void use_all_rows() {
    kk_ = K_;
    az_ = z_;
    at_ = target_.data();
    anorm_ = norm_;
  }

  // Relative error of the current latents' binarized forward (fills work_).
  double forward() {
    y_.assign(static_cast<size_t>(kk_ * m_), 0.0f);
    for (size_t p = 0; p < paths_.size(); ++p) {
      const LittleBitLatent& L = paths_[p];
      PathWork& W = work_[p];
      W.su.resize(L.u.size());
      W.sv.resize(L.v.size());
      for (size_t i = 0; i < L.u.size(); ++i) W.su[i] = L.u[i] < 0 ? -1.0f : 1.0f;
      for (size_t i = 0; i < L.v.size(); ++i) W.sv[i] = L.v[i] < 0 ? -1.0f : 1.0f;
      // (Z * g) S_V^T = Z (S_V * g)^T: scale the r x n signs, not the K x n inputs.
      W.svg.resize(L.v.size());
      for (int64_t q = 0; q < r_; ++q)
        for (int64_t j = 0; j < n_; ++j) W.svg[q * n_ + j] = W.sv[q * n_ + j] * L.g[j];
      W.b.resize(static_cast<size_t>(kk_ * r_));
      mm(false, true, kk_, r_, n_, az_, W.svg.data(), W.b.data());
      W.c.resize(W.b.size());
      for (int64_t k = 0; k < kk_; ++k)
        for (int64_t q = 0; q < r_; ++q) W.c[k * r_ + q] = W.b[k * r_ + q] * L.l[q];
      W.d.resize(static_cast<size_t>(kk_ * m_));
      mm(false, true, kk_, m_, r_, W.c.data(), W.su.data(), W.d.data());
      for (int64_t k = 0; k < kk_; ++k)
        for (int64_t i = 0; i < m_; ++i) y_[k * m_ + i] += W.d[k * m_ + i] * L.h[i];
    }
    double e = 0;
    for (size_t i = 0; i < y_.size(); ++i) {
      y_[i] -= at_[i];
      e += double(y_[i]) * y_[i];
    }
    return e / anorm_;
  }

  // Gradients of the last forward's loss into params (order: per path u, v, h, l, g).
  void backward(std::vector<AdamParam>& params, double smooth_k, const std::vector<double>& latent_rms) {
    const float scale = static_cast<float>(2.0 / anorm_);
    std::vector<float> dd(static_cast<size_t>(kk_ * m_)), dc(static_cast<size_t>(kk_ * r_)),
        mz(static_cast<size_t>(r_ * n_));
    for (size_t p = 0; p < paths_.size(); ++p) {
      const LittleBitLatent& L = paths_[p];
      PathWork& W = work_[p];
      AdamParam* P = &params[p * detail::kLatentTensors];
      std::fill(P[2].grad.begin(), P[2].grad.end(), 0.0f);
      for (int64_t k = 0; k < kk_; ++k)
        for (int64_t i = 0; i < m_; ++i) {
          const float dy = scale * y_[k * m_ + i];
          P[2].grad[i] += W.d[k * m_ + i] * dy;  // dh
          dd[k * m_ + i] = dy * L.h[i];
        }
      mm(true, false, m_, r_, kk_, dd.data(), W.c.data(), P[0].grad.data());  // dS_U = dD^T C
      mm(false, false, kk_, r_, m_, dd.data(), W.su.data(), dc.data());       // dC = dD S_U
      std::fill(P[3].grad.begin(), P[3].grad.end(), 0.0f);
      for (int64_t k = 0; k < kk_; ++k)
        for (int64_t q = 0; q < r_; ++q) {
          P[3].grad[q] += W.b[k * r_ + q] * dc[k * r_ + q];  // dl
          dc[k * r_ + q] *= L.l[q];                          // dB
        }
      // With M = dB^T Z [r, n]: dS_V = M * g (per column) and dg_j = sum_q S_V[q, j] M[q, j],
      // one GEMM instead of dB^T (Z * g) and dB S_V.
      mm(true, false, r_, n_, kk_, dc.data(), az_, mz.data());
      std::fill(P[4].grad.begin(), P[4].grad.end(), 0.0f);
      for (int64_t q = 0; q < r_; ++q)
        for (int64_t j = 0; j < n_; ++j) {
          P[1].grad[q * n_ + j] = mz[q * n_ + j] * L.g[j];
          P[4].grad[j] += W.sv[q * n_ + j] * mz[q * n_ + j];
        }
      // Through the smooth sign.
      detail::smooth_sign_backward(L.u, smooth_k / latent_rms[p * 2], P[detail::kLatentU].grad);
      detail::smooth_sign_backward(L.v, smooth_k / latent_rms[p * 2 + 1], P[detail::kLatentV].grad);
    }
  }

 private:
  std::vector<LittleBitLatent>& paths_;
  int64_t m_, n_, r_, K_;
  const float* z_ = nullptr;
  std::vector<float> eye_, target_, y_;
  double norm_ = 1;
  // The rows the current steps use (all, or a minibatch gathered into bz_, bt_).
  int64_t kk_ = 0;
  const float* az_ = nullptr;
  const float* at_ = nullptr;
  double anorm_ = 1;
  std::vector<float> bz_, bt_;
  std::vector<PathWork> work_;
};

}  // namespace

LittleBitRefineStats refine_littlebit(std::vector<LittleBitLatent>& paths, const float* w, const float* z, int64_t K,
                                      const LittleBitRefineOptions& opts) {
  LittleBitRefineStats st;
  if (paths.empty()) return st;
  std::vector<float> reduced;
  if (z && K > paths[0].n) reduced = reduce_rows(z, K, paths[0].n);
  if (!reduced.empty()) {
    z = reduced.data();
    K = paths[0].n;
  }
  Problem prob(paths, w, z, K);
  std::vector<AdamParam> params(paths.size() * detail::kLatentTensors);
  std::vector<double> latent_rms;
  for (size_t p = 0; p < paths.size(); ++p) {
    detail::init_path_params(paths[p], opts.lr, &params[p * detail::kLatentTensors]);
    latent_rms.push_back(rms(paths[p].u));
    latent_rms.push_back(rms(paths[p].v));
  }
  std::vector<LittleBitLatent> best = paths;
  st.loss_before = prob.forward();
  double best_loss = st.loss_before;
  // Large layers take minibatch steps: the full rows would make each step
  // cost K r (m + n) multiply-adds. The best state is then judged on all
  // rows at a few checkpoints only.
  const int64_t m = paths[0].m, n = paths[0].n, r = paths[0].r;
  const int64_t batch =
      opts.batch_rows > 0 ? opts.batch_rows
      : static_cast<double>(prob.rows()) * static_cast<double>(r) * static_cast<double>(m + n) > kFullBatchWork
          ? kAutoBatchRows
          : 0;
  const bool minibatch = batch > 0 && batch < prob.rows();
  std::mt19937_64 rng(opts.seed);
  std::vector<int64_t> all(static_cast<size_t>(prob.rows()));
  for (int64_t i = 0; i < prob.rows(); ++i) all[static_cast<size_t>(i)] = i;
  const int checkpoints = 5;
  for (int t = 1; t <= opts.steps; ++t) {
    if (minibatch) {
      // A fresh random subset each step (partial Fisher-Yates), then its loss for the gradient.
      for (int64_t i = 0; i < batch; ++i) std::swap(all[i], all[i + static_cast<int64_t>(rng() % (prob.rows() - i))]);
      prob.use_rows({all.begin(), all.begin() + batch});
      prob.forward();
    }
    prob.backward(params, opts.smooth_k, latent_rms);
    const double decay = detail::cosine_decay(t, opts.steps);
    for (size_t i = 0; i < params.size(); ++i) {
      const bool latent = i % detail::kLatentTensors < 2;
      if (latent && !opts.train_signs) continue;
      params[i].update(t, decay);
    }
    ++st.steps;
    if (minibatch && t % std::max(1, opts.steps / checkpoints) != 0 && t != opts.steps) continue;
    prob.use_all_rows();
    const double loss = prob.forward();
    if (loss < best_loss) {
      best_loss = loss;
      best = paths;
    }
  }
  paths = std::move(best);
  st.loss_after = best_loss;
  return st;
}

double littlebit_output_error(const LittleBitFactors& f, const float* w, const float* z, int64_t K) {
  const int64_t m = f.out, n = f.in;
  std::vector<float> target(static_cast<size_t>(K * m)), y(target.size());
  mm(false, true, K, m, n, z, w, target.data());
  f.apply(z, K, y.data());
  double num = 0, den = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    num += double(y[i] - target[i]) * (y[i] - target[i]);
    den += double(target[i]) * target[i];
  }
  return den > 0 ? num / den : 0;
}

}  // namespace libquant::methods
