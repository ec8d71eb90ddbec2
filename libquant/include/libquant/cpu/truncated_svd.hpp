#pragma once
// Truncated singular value decomposition A ~ U diag(S) V^T of a row-major
// f32 matrix, on LAPACK (gesdd) and BLAS: exact (full SVD, then truncated)
// or randomized (Halko, Martinsson & Tropp: Gaussian sketch with
// oversampling and power iterations, then an exact SVD of the small
// projected matrix). The randomized sketch is drawn from a seeded generator
// of our own, so results are the same on every platform for a given seed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "libquant/export.hpp"

namespace libquant::cpu {

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

// The k leading singular triplets of a[m, n]. Throws Error(FactorizationFailed)
// for non-finite input or when LAPACK does not converge.
LIBQUANT_API TruncatedSvd truncated_svd(const float* a, int64_t m, int64_t n, int64_t k, const SvdOptions& opts = {});

// The checks truncated_svd makes before computing (shape, rank, finite values),
// for other backends: Error(InvalidArgument) / Error(FactorizationFailed).
LIBQUANT_API void validate_svd_input(const float* a, int64_t m, int64_t n, int64_t k);

// The randomized method's Gaussian sketch: `count` standard normal values
// from `seed` (the column-major [n, k + oversample] matrix Omega).
LIBQUANT_API void svd_gaussian_sketch(double* out, size_t count, uint64_t seed);

// Which method Auto picks for this shape.
LIBQUANT_API SvdMethod resolve_svd_method(int64_t m, int64_t n, int64_t k, SvdMethod requested) noexcept;

}  // namespace libquant::cpu
