#pragma once
// Plain data that the compute backends exchange (backend/backend.hpp) and the
// CPU kernels produce: a truncated SVD's options and result, and a view of a
// packed +1/-1 matrix. They live below both, so that a backend's interface
// names no kernel module (cpu/truncated_svd.hpp and cpu/sign_matrix.hpp use
// them under their cpu:: names).
#include <cstdint>
#include <vector>

namespace libquant {

enum class SvdMethod { Auto, Exact, Randomized };

struct SvdOptions {
  SvdMethod method = SvdMethod::Auto;  // Auto: randomized when k is well below min(m, n) and the matrix is large
  bool double_precision = true;        // compute in f64 (false: f32, faster, less exact)
  int oversample = 16;
  int power_iterations = 2;
  uint64_t seed = 0;
};

struct TruncatedSvd {
  int64_t m = 0, n = 0, k = 0;
  std::vector<float> u;  // [m, k] row-major, orthonormal columns
  std::vector<float> s;  // [k], descending
  std::vector<float> v;  // [n, k] row-major, orthonormal columns
};

// Row-major +1/-1 entries, one bit each (set = -1), rows padded to whole
// 64-bit words (cpu/sign_matrix.hpp describes the layout).
struct SignMatrixView {
  const uint64_t* bits = nullptr;
  int64_t rows = 0, cols = 0;
  int64_t words_per_row = 0;  // ceil(cols / 64)
  float at(int64_t r, int64_t c) const noexcept {
    return (bits[r * words_per_row + c / 64] >> (c % 64)) & 1u ? -1.0f : 1.0f;
  }
};

}  // namespace libquant
