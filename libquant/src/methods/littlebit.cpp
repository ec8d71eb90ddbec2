#include "libquant/methods/littlebit.hpp"

#include "libquant/backend/backend.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"

namespace libquant::methods {

int64_t littlebit_rank_for_bpw(int64_t m, int64_t n, double target_bpw, int paths, double kv_factor,
                               int64_t min_rank) noexcept {
  const double P = paths;
  double r = (static_cast<double>(m) * static_cast<double>(n) * target_bpw - 16.0 * P * static_cast<double>(m + n)) /
             (P * static_cast<double>(m + n + 16));
  r *= kv_factor;
  int64_t rank = r > 0 ? static_cast<int64_t>(r) / 8 * 8 : 0;
  rank = std::max(rank, min_rank);
  return std::min(rank, std::min(m, n));
}

namespace {

// Rank-1 approximation of a non-negative matrix a[rows, cols] ~ left right^T
// by power iteration (its leading singular vectors are non-negative), with the
// singular value split evenly between the two vectors.
void rank_one_split(const std::vector<float>& a, int64_t rows, int64_t cols, std::vector<float>& left,
                    std::vector<float>& right) {
  std::vector<double> u(static_cast<size_t>(rows)), v(static_cast<size_t>(cols), 1.0 / std::sqrt(double(cols)));
  double sigma = 0;
  for (int it = 0; it < 200; ++it) {
    double nu = 0;
    for (int64_t i = 0; i < rows; ++i) {
      double s = 0;
      for (int64_t j = 0; j < cols; ++j) s += a[i * cols + j] * v[j];
      u[i] = s;
      nu += s * s;
    }
    nu = std::sqrt(nu);
    if (nu == 0) break;
    for (auto& x : u) x /= nu;
    std::vector<double> nv(static_cast<size_t>(cols), 0.0);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) nv[j] += a[i * cols + j] * u[i];
    double s2 = 0;
    for (double x : nv) s2 += x * x;
    const double s = std::sqrt(s2);
    double change = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double x = s > 0 ? nv[j] / s : 0;
      change = std::max(change, std::abs(x - v[j]));
      v[j] = x;
    }
    sigma = s;
    if (change < 1e-9) break;
  }
  const double root = std::sqrt(sigma);
  left.resize(static_cast<size_t>(rows));
  right.resize(static_cast<size_t>(cols));
  for (int64_t i = 0; i < rows; ++i) left[i] = static_cast<float>(root * u[i]);
  for (int64_t j = 0; j < cols; ++j) right[j] = static_cast<float>(root * v[j]);
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return x.empty() ? 0 : std::sqrt(s / static_cast<double>(x.size()));
}

// One path of Dual-SVID for target t [m, n].
LittleBitLatent init_path(const float* t, int64_t m, int64_t n, const LittleBitInitOptions& o) {
  const cpu::TruncatedSvd svd = backend::active().truncated_svd(t, m, n, o.rank, o.svd);
  const int64_t r = o.rank;
  LittleBitLatent p{m, n, r, {}, {}, {}, {}, {}};
  p.u.resize(static_cast<size_t>(m * r));
  p.v.resize(static_cast<size_t>(r * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t k = 0; k < r; ++k) p.u[i * r + k] = svd.u[i * r + k] * std::sqrt(svd.s[k]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k < r; ++k) p.v[k * n + j] = svd.v[j * r + k] * std::sqrt(svd.s[k]);
  std::vector<float> abs_u(p.u.size()), abs_vt(static_cast<size_t>(n * r)), lu, lv;
  for (size_t i = 0; i < p.u.size(); ++i) abs_u[i] = std::abs(p.u[i]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k < r; ++k) abs_vt[j * r + k] = std::abs(p.v[k * n + j]);
  rank_one_split(abs_u, m, r, p.h, lu);   // |U'| ~ h l_u^T
  rank_one_split(abs_vt, n, r, p.g, lv);  // |V'| ~ g l_v^T
  p.l.resize(static_cast<size_t>(r));
  // Keep h and g near 1 and put the magnitude into l, so that all three stay
  // well inside f16's range whatever the layer's scale.
  const double a = std::max(rms(p.h), 1e-30), b = std::max(rms(p.g), 1e-30);
  for (auto& x : p.h) x = static_cast<float>(x / a);
  for (auto& x : p.g) x = static_cast<float>(x / b);
  for (int64_t k = 0; k < r; ++k) p.l[k] = static_cast<float>(double(lu[k]) * lv[k] * a * b);
  return p;
}

float f16_round(float x) { return f16_to_f32(f32_to_f16(x)); }

}  // namespace

LittleBitPath binarize(const LittleBitLatent& p) {
  LittleBitPath b;
  b.u = cpu::PackedSigns::from_values(p.u.data(), p.m, p.r);
  b.v = cpu::PackedSigns::from_values(p.v.data(), p.r, p.n);
  const auto round_all = [](const std::vector<float>& x) {
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = f16_round(x[i]);
    return y;
  };
  b.h = round_all(p.h);
  b.l = round_all(p.l);
  b.g = round_all(p.g);
  return b;
}

LittleBitFactors binarize(const std::vector<LittleBitLatent>& paths) {
  LittleBitFactors f;
  if (paths.empty()) return f;
  f.out = paths[0].m;
  f.in = paths[0].n;
  f.rank = paths[0].r;
  for (const auto& p : paths) f.paths.push_back(binarize(p));
  return f;
}

std::vector<LittleBitLatent> dual_svid_init(const float* w, int64_t m, int64_t n, const LittleBitInitOptions& o) {
  check(o.rank >= 1 && o.rank <= std::min(m, n), ErrorCode::RankSelectionFailed,
        "rank " + std::to_string(o.rank) + " is not within 1.." + std::to_string(std::min(m, n)) + " for a " +
            std::to_string(m) + "x" + std::to_string(n) + " matrix");
  std::vector<LittleBitLatent> paths;
  paths.push_back(init_path(w, m, n, o));
  if (o.residual) {
    // The residual path fits what the binarized first path (as stored) leaves.
    LittleBitFactors first;
    first.out = m;
    first.in = n;
    first.rank = o.rank;
    first.paths.push_back(binarize(paths[0]));
    std::vector<float> res = first.reconstruct();
    for (int64_t i = 0; i < m * n; ++i) res[i] = w[i] - res[i];
    paths.push_back(init_path(res.data(), m, n, o));
  }
  return paths;
}

double relative_frobenius_error(const float* w, const std::vector<float>& w_hat) {
  double num = 0, den = 0;
  for (size_t i = 0; i < w_hat.size(); ++i) {
    const double e = double(w[i]) - w_hat[i];
    num += e * e;
    den += double(w[i]) * w[i];
  }
  return den > 0 ? std::sqrt(num / den) : 0;
}

}  // namespace libquant::methods
