#pragma once
// Exact conversions between binary32 and the 16-bit formats. Narrowing rounds
// to nearest even; NaN stays NaN (quiet) and infinities are preserved, as
// torch, numpy and ggml do.
#include <cstddef>
#include <cstdint>

#include "libquant/export.hpp"

namespace libquant {

LIBQUANT_API float f16_to_f32(uint16_t h) noexcept;
LIBQUANT_API uint16_t f32_to_f16(float f) noexcept;
LIBQUANT_API float bf16_to_f32(uint16_t h) noexcept;
LIBQUANT_API uint16_t f32_to_bf16(float f) noexcept;

// Whole-array helpers (vectorised where the CPU allows).
LIBQUANT_API void f16_to_f32(const uint16_t* src, float* dst, size_t n) noexcept;
LIBQUANT_API void f32_to_f16(const float* src, uint16_t* dst, size_t n) noexcept;
LIBQUANT_API void bf16_to_f32(const uint16_t* src, float* dst, size_t n) noexcept;
LIBQUANT_API void f32_to_bf16(const float* src, uint16_t* dst, size_t n) noexcept;

// 8-bit floats (OCP FP8), decode only: E4M3FN (no inf, 0x7f/0xff NaN) and E5M2.
LIBQUANT_API float fp8_e4m3_to_f32(uint8_t v) noexcept;
LIBQUANT_API float fp8_e5m2_to_f32(uint8_t v) noexcept;

}  // namespace libquant
