#pragma once
// Calibration-like inputs for the GPTQ tests: correlated columns and the
// Hessian 2/n X^T X they give.
#include <cstdint>
#include <utility>
#include <vector>

#include "random_matrices.hpp"

namespace test {

// Inputs with correlated columns (x = z M, M dense), as activations are.
inline std::vector<float> correlated_inputs(int64_t n, int64_t cols, uint32_t seed) {
  const auto z = test::randn(static_cast<size_t>(n * cols), seed);
  const auto m = test::randn(static_cast<size_t>(cols * cols), seed + 1, 0.3f);
  std::vector<float> x(static_cast<size_t>(n * cols), 0.0f);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = 0; k < cols; ++k) {
      const float zk = z[static_cast<size_t>(t * cols + k)];
      for (int64_t j = 0; j < cols; ++j)
        x[static_cast<size_t>(t * cols + j)] += zk * (m[static_cast<size_t>(k * cols + j)] + (k == j ? 1.0f : 0.0f));
    }
  return x;
}

inline std::vector<double> hessian_of(const std::vector<float>& x, int64_t n, int64_t cols) {
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        h[static_cast<size_t>(i * cols + j)] +=
            2.0 / n * x[static_cast<size_t>(t * cols + i)] * x[static_cast<size_t>(t * cols + j)];
  return h;
}

// tr(D H D^T) for D = W - deq: the layer's output error on the calibration inputs.
inline double layer_error(const std::vector<float>& w, const std::vector<float>& deq, const std::vector<double>& h,
                          int64_t rows, int64_t cols) {
  double e = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        e += (w[static_cast<size_t>(r * cols + i)] - deq[static_cast<size_t>(r * cols + i)]) *
             h[static_cast<size_t>(i * cols + j)] *
             (w[static_cast<size_t>(r * cols + j)] - deq[static_cast<size_t>(r * cols + j)]);
  return e;
}

// (H + damp * mean(diag H) I)^-1 by Gauss-Jordan in double: the inverse the
// reference formulations (the paper's explicit OBQ updates) start from.
inline std::vector<double> damped_inverse(std::vector<double> h, int64_t cols, double damp) {
  double mean = 0;
  for (int64_t i = 0; i < cols; ++i) mean += h[static_cast<size_t>(i * cols + i)] / static_cast<double>(cols);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] += damp * mean;
  std::vector<double> a = std::move(h), inv(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) inv[static_cast<size_t>(i * cols + i)] = 1;
  for (int64_t c = 0; c < cols; ++c) {
    const double p = a[static_cast<size_t>(c * cols + c)];
    for (int64_t j = 0; j < cols; ++j)
      a[static_cast<size_t>(c * cols + j)] /= p, inv[static_cast<size_t>(c * cols + j)] /= p;
    for (int64_t r = 0; r < cols; ++r) {
      if (r == c) continue;
      const double f = a[static_cast<size_t>(r * cols + c)];
      for (int64_t j = 0; j < cols; ++j) {
        a[static_cast<size_t>(r * cols + j)] -= f * a[static_cast<size_t>(c * cols + j)];
        inv[static_cast<size_t>(r * cols + j)] -= f * inv[static_cast<size_t>(c * cols + j)];
      }
    }
  }
  return inv;
}

// OBQ's step after column i is quantized: i leaves the inverse (the inverse of
// H without row and column i, by the Schur complement).
inline void eliminate_column(std::vector<double>& inv, int64_t cols, int64_t i) {
  const double d = inv[static_cast<size_t>(i * cols + i)];
  const std::vector<double> row(inv.begin() + i * cols, inv.begin() + (i + 1) * cols);
  for (int64_t r = 0; r < cols; ++r) {
    const double f = inv[static_cast<size_t>(r * cols + i)] / d;
    for (int64_t j = 0; j < cols; ++j) inv[static_cast<size_t>(r * cols + j)] -= f * row[static_cast<size_t>(j)];
  }
}

}  // namespace test
