#pragma once
// Decoders for the 32-element legacy block types (Q4_0, Q4_1, Q5_0, Q5_1) and
// IQ4_NL. Nibble layout: byte j holds element j (low) and j + 16 (high).
#include <cstdint>

namespace libquant::gguf {
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void dequantize_q5_0(const void* src, float* dst, int64_t n);
void dequantize_q5_1(const void* src, float* dst, int64_t n);
void dequantize_iq4_nl(const void* src, float* dst, int64_t n);
}  // namespace libquant::gguf
