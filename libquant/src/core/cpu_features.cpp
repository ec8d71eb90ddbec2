#include "libquant/core/cpu_features.hpp"

#include <atomic>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace libquant {
namespace {

CpuFeatures probe() noexcept {
  CpuFeatures f;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  // clang's __builtin_cpu_supports does not know "f16c": cpuid leaf 1, ECX bit 29
  // (usable only with the AVX register state the OS enables).
  unsigned a = 0, b = 0, c = 0, d = 0;
  f.f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) && __builtin_cpu_supports("avx");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
#endif
  return f;
}

SimdLevel level_of(const CpuFeatures& f) noexcept {
  if (!(f.avx2 && f.fma && f.f16c)) return SimdLevel::Scalar;
  if (f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl) return SimdLevel::Avx512;
  return SimdLevel::Avx2;
}

std::atomic<uint8_t> g_limit{static_cast<uint8_t>(SimdLevel::Avx512)};

}  // namespace

const CpuFeatures& cpu_features() noexcept {
  static const CpuFeatures f = probe();
  return f;
}

SimdLevel detected_simd_level() noexcept {
  static const SimdLevel l = level_of(cpu_features());
  return l;
}

SimdLevel simd_level() noexcept {
  const auto limit = g_limit.load(std::memory_order_relaxed);
  const auto have = static_cast<uint8_t>(detected_simd_level());
  return static_cast<SimdLevel>(limit < have ? limit : have);
}

void set_simd_limit(SimdLevel max) noexcept { g_limit.store(static_cast<uint8_t>(max), std::memory_order_relaxed); }

bool use_avx512_vnni() noexcept { return simd_level() == SimdLevel::Avx512 && cpu_features().avx512vnni; }

const char* simd_level_name(SimdLevel level) noexcept {
  switch (level) {
    case SimdLevel::Avx512:
      return "avx512";
    case SimdLevel::Avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

std::optional<SimdLevel> parse_simd_level(std::string_view name) noexcept {
  for (auto l : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
    if (name == simd_level_name(l)) return l;
  return std::nullopt;
}

}  // namespace libquant
