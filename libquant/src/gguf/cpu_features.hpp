#pragma once
// Which SIMD fast paths the codecs may take. LIBQUANT_DISABLE_SIMD=1 forces
// the scalar reference paths (tests compare the two; users can rule the
// fast paths out when chasing a difference).
#include <cstdlib>

namespace libquant::gguf {

inline bool use_avx2() noexcept {
#if defined(__x86_64__)
  static const bool v = [] {
    const char* off = std::getenv("LIBQUANT_DISABLE_SIMD");
    return !(off && *off && *off != '0') && __builtin_cpu_supports("avx2");
  }();
  return v;
#else
  return false;
#endif
}

}  // namespace libquant::gguf
