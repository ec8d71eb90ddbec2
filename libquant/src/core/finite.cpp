#include "libquant/core/finite.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "libquant/core/error.hpp"

namespace libquant {

size_t first_non_finite(const float* x, size_t n) noexcept {
  // An exponent of all ones is NaN or Inf. Blocks are OR-reduced (a loop the
  // compiler vectorises) and only a block that fails is searched.
  constexpr size_t kBlock = 256;
  constexpr uint32_t kExp = 0x7f800000u;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t e = b + kBlock < n ? b + kBlock : n;
    uint32_t bad = 0;
    for (size_t i = b; i < e; ++i) {
      uint32_t u;
      std::memcpy(&u, x + i, sizeof u);
      bad |= static_cast<uint32_t>((u & kExp) == kExp);
    }
    if (bad)
      for (size_t i = b; i < e; ++i)
        if (!std::isfinite(x[i])) return i;
  }
  return n;
}

void require_finite(std::string_view what, const float* x, size_t n, uint64_t first_index) {
  const size_t i = first_non_finite(x, n);
  if (i == n) return;
  throw Error(ErrorCode::ValidationFailed,
              std::string(what) + " holds " +
                  (std::isnan(x[i]) ? "NaN"
                   : x[i] > 0       ? "+Inf"
                                    : "-Inf") +
                  " at index " + std::to_string(first_index + i),
              "Fix or re-export the file; non-finite values would turn the whole model into NaN");
}

}  // namespace libquant
