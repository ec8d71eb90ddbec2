#pragma once
// Calibration-like inputs for the GPTQ tests: correlated columns and the
// Hessian 2/n X^T X they give.
#include <cstdint>
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

}  // namespace test
