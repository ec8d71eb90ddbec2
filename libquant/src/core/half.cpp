#include "libquant/core/half.hpp"

#include <bit>
#include <cmath>
#include <cstring>

#include "libquant/core/cpu_features.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LIBQUANT_X86 1
#endif

namespace libquant {

float f16_to_f32(uint16_t h) noexcept {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / NaN (payload kept)
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | ((112u - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t f32_to_f16(float value) noexcept {
  // Round-to-nearest-even by integer arithmetic on the bit pattern; the
  // subnormal range uses the FPU's own RNE through a magic-number addition.
  constexpr uint32_t kF32Inf = 255u << 23;
  constexpr uint32_t kF16Overflow = (127u + 16u) << 23;                       // 65536.0f
  constexpr uint32_t kDenormMagic = ((127u - 15u) + (23u - 10u) + 1u) << 23;  // 0.5f
  uint32_t f = std::bit_cast<uint32_t>(value);
  const uint32_t sign = f & 0x80000000u;
  f ^= sign;
  uint32_t o;
  if (f >= kF16Overflow) {
    o = f > kF32Inf ? (0x7e00u | ((f >> 13) & 0x3ffu)) : 0x7c00u;  // NaN stays (quiet) NaN
  } else if (f < (113u << 23)) {                                   // below 2^-14: half subnormal or zero
    const float sum = std::bit_cast<float>(f) + std::bit_cast<float>(kDenormMagic);
    o = std::bit_cast<uint32_t>(sum) - kDenormMagic;
  } else {
    const uint32_t mant_odd = (f >> 13) & 1u;
    f += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu;
    f += mant_odd;
    o = f >> 13;
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

float bf16_to_f32(uint16_t h) noexcept { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

uint16_t f32_to_bf16(float value) noexcept {
  const uint32_t u = std::bit_cast<uint32_t>(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#ifdef LIBQUANT_X86
namespace {
bool has_f16c() noexcept { return cpu_features().f16c; }  // the one CPU-feature probe
__attribute__((target("avx,f16c"))) void f32_to_f16_f16c(const float* src, uint16_t* dst, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}
__attribute__((target("avx,f16c"))) void f16_to_f32_f16c(const uint16_t* src, float* dst, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}
}  // namespace
#endif

void f16_to_f32(const uint16_t* src, float* dst, size_t n) noexcept {
#ifdef LIBQUANT_X86
  if (has_f16c()) return f16_to_f32_f16c(src, dst, n);
#endif
  for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

void f32_to_f16(const float* src, uint16_t* dst, size_t n) noexcept {
#ifdef LIBQUANT_X86
  if (has_f16c()) return f32_to_f16_f16c(src, dst, n);
#endif
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

void bf16_to_f32(const uint16_t* src, float* dst, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

void f32_to_bf16(const float* src, uint16_t* dst, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

float fp8_e4m3_to_f32(uint8_t v) noexcept {
  const float sign = (v & 0x80) ? -1.0f : 1.0f;
  const int exp = (v >> 3) & 0xf;
  const int mant = v & 0x7;
  if (exp == 0xf && mant == 0x7) return std::nanf("");
  if (exp == 0) return sign * std::ldexp(static_cast<float>(mant) / 8.0f, -6);
  return sign * std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
}

float fp8_e5m2_to_f32(uint8_t v) noexcept { return f16_to_f32(static_cast<uint16_t>(v) << 8); }

}  // namespace libquant
