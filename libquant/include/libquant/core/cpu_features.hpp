#pragma once
// The one CPU-feature probe every kernel dispatches from. Fast paths come in
// levels (scalar reference, AVX2, AVX-512); a kernel runs the highest level
// that both the CPU supports and the caller allows. Lowering the limit lets a
// test run the AVX2 paths on an AVX-512 machine, or a user rule the fast paths
// out when chasing a difference; every level gives the same results wherever
// a kernel documents exactness (the llama.cpp-exact and codec kernels).
#include <cstdint>
#include <optional>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

enum class SimdLevel : uint8_t {
  Scalar = 0,
  Avx2 = 1,    // AVX2 + FMA + F16C (x86-64-v3)
  Avx512 = 2,  // AVX-512 F/DQ/BW/VL on top of AVX2
};

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false, avx512vnni = false;
};

// What this CPU has (probed once).
LIBQUANT_API const CpuFeatures& cpu_features() noexcept;
// The highest level this CPU supports.
LIBQUANT_API SimdLevel detected_simd_level() noexcept;
// The level kernels use now: the detected one, capped by set_simd_limit.
LIBQUANT_API SimdLevel simd_level() noexcept;
// Caps the level kernels use (process-wide). Set it before starting work:
// a kernel already running keeps the level it started with.
LIBQUANT_API void set_simd_limit(SimdLevel max) noexcept;
// Whether AVX-512 VNNI (int8 dot products) may be used: simd_level() is
// Avx512 and the CPU has VNNI.
LIBQUANT_API bool use_avx512_vnni() noexcept;

LIBQUANT_API const char* simd_level_name(SimdLevel level) noexcept;  // "scalar", "avx2", "avx512"
LIBQUANT_API std::optional<SimdLevel> parse_simd_level(std::string_view name) noexcept;

}  // namespace libquant
