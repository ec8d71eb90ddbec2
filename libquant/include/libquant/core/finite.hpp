#pragma once
// The finite-value check every weight and statistic read from a file passes
// before it is used: NaN or Inf in a weight, a norm or an importance matrix
// would silently turn a whole model into NaN.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

// Index of the first NaN or Inf in x[0, n), or n when all are finite.
LIBQUANT_API size_t first_non_finite(const float* x, size_t n) noexcept;

// Throws Error(ValidationFailed) naming `what` ("tensor 'blk.0.attn_norm.weight'")
// and the index (offset by `first_index`) and value of the first NaN or Inf.
LIBQUANT_API void require_finite(std::string_view what, const float* x, size_t n, uint64_t first_index = 0);

}  // namespace libquant
