#pragma once
// Which SIMD fast paths the codecs may take: the library's one CPU probe,
// under its SIMD limit (libquant/core/cpu_features.hpp). Tests compare the
// paths by lowering the limit.
#include "libquant/core/cpu_features.hpp"

namespace libquant::gguf {

inline bool use_avx2() noexcept { return simd_level() >= SimdLevel::Avx2; }

}  // namespace libquant::gguf
