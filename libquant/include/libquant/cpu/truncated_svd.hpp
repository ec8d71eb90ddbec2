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

#include "libquant/core/linalg_types.hpp"
#include "libquant/export.hpp"

namespace libquant::cpu {

using libquant::SvdMethod;  // core/linalg_types.hpp
using libquant::SvdOptions;
using libquant::TruncatedSvd;

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
