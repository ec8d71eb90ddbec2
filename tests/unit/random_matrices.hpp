#pragma once
// Seeded random test matrices shared by the unit tests.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace test {

// n standard normal values (times scale) from a fixed seed.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> x(n);
  for (auto& v : x) v = d(rng);
  return x;
}

// A row-major [rows, cols] matrix with orthonormal columns (Gram-Schmidt of
// random vectors), for matrices with a known spectrum Q1 diag(s) Q2^T.
inline std::vector<float> orthonormal_columns(int64_t rows, int64_t cols, uint32_t seed) {
  auto q = randn(static_cast<size_t>(rows * cols), seed);
  for (int64_t j = 0; j < cols; ++j) {
    for (int64_t p = 0; p < j; ++p) {
      double d = 0;
      for (int64_t i = 0; i < rows; ++i) d += double(q[i * cols + j]) * q[i * cols + p];
      for (int64_t i = 0; i < rows; ++i) q[i * cols + j] -= static_cast<float>(d * q[i * cols + p]);
    }
    double nn = 0;
    for (int64_t i = 0; i < rows; ++i) nn += double(q[i * cols + j]) * q[i * cols + j];
    for (int64_t i = 0; i < rows; ++i) q[i * cols + j] /= static_cast<float>(std::sqrt(nn));
  }
  return q;
}

}  // namespace test
