#pragma once
// What LittleBit's two fitting stages (per weight, littlebit_refine.cpp; per
// decoder block, littlebit_block.cpp) share: Adam with a step relative to
// each tensor's starting RMS, and the smooth-sign straight-through gradient.
#include <algorithm>
#include <cmath>
#include <vector>

#include "libquant/methods/littlebit.hpp"

namespace libquant::methods::detail {

inline double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return x.empty() ? 1 : std::max(std::sqrt(s / static_cast<double>(x.size())), 1e-30);
}

// One Adam-optimized tensor: value, moments and its own step size.
struct AdamParam {
  std::vector<float>* x = nullptr;
  std::vector<float> m, v, grad;
  double step = 0;
  void init(std::vector<float>* p, double lr) {
    x = p;
    m.assign(p->size(), 0.0f);
    v.assign(p->size(), 0.0f);
    grad.assign(p->size(), 0.0f);
    step = lr * rms(*p);
  }
  void update(int t, double scale) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-12;
    const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
    for (size_t i = 0; i < x->size(); ++i) {
      m[i] = static_cast<float>(b1 * m[i] + (1 - b1) * grad[i]);
      v[i] = static_cast<float>(b2 * v[i] + (1 - b2) * double(grad[i]) * grad[i]);
      const double mh = m[i] / c1, vh = v[i] / c2;
      (*x)[i] -= static_cast<float>(scale * step * mh / (std::sqrt(vh) + eps * step));
    }
  }
};

// The five tensors of each path, in this order, are what both stages train.
enum LatentTensor { kLatentU, kLatentV, kScaleH, kScaleL, kScaleG, kLatentTensors };

inline void init_path_params(LittleBitLatent& L, double lr, AdamParam* p) {
  p[kLatentU].init(&L.u, lr);
  p[kLatentV].init(&L.v, lr);
  p[kScaleH].init(&L.h, lr);
  p[kScaleL].init(&L.l, lr);
  p[kScaleG].init(&L.g, lr);
}

// Gradient with respect to the signs -> with respect to the latent, through
// the smooth sign tanh(k x / s): multiply by (k / s) (1 - tanh^2).
inline void smooth_sign_backward(const std::vector<float>& latent, double k_over_s, std::vector<float>& grad) {
  for (size_t i = 0; i < latent.size(); ++i) {
    const double t = std::tanh(k_over_s * latent[i]);
    grad[i] = static_cast<float>(grad[i] * k_over_s * (1 - t * t));
  }
}

// Cosine decay to zero over `steps`: large steps find sign flips, small ones settle the scales.
inline double cosine_decay(int t, int steps) { return 0.5 * (1 + std::cos(3.141592653589793 * (t - 1) / steps)); }

}  // namespace libquant::methods::detail
