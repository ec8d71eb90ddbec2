#include "legacy_dequant.hpp"

#include <cstring>

#include "libquant/core/half.hpp"

namespace libquant::gguf {
namespace {

constexpr int kBlock = 32;
// The 16 non-uniform levels of IQ4_NL / IQ4_XS.
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Shared walk over 32-element blocks: `bytes` per block; decode(block, out) fills 32 floats.
template <typename Decode>
void for_blocks(const void* src, float* dst, int64_t n, int bytes, Decode decode) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t b = 0; b < n / kBlock; ++b) decode(p + b * bytes, dst + b * kBlock);
}

// Element j's 4-bit code from the 16 packed bytes.
int nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4); }

uint32_t high_bits(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

}  // namespace

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  for_blocks(src, dst, n, 18, [](const uint8_t* b, float* y) {
    const float d = half_at(b);
    for (int j = 0; j < kBlock; ++j) y[j] = d * static_cast<float>(nibble(b + 2, j) - 8);
  });
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  for_blocks(src, dst, n, 20, [](const uint8_t* b, float* y) {
    const float d = half_at(b), m = half_at(b + 2);
    for (int j = 0; j < kBlock; ++j) y[j] = d * static_cast<float>(nibble(b + 4, j)) + m;
  });
}

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  for_blocks(src, dst, n, 22, [](const uint8_t* b, float* y) {
    const float d = half_at(b);
    const uint32_t qh = high_bits(b + 2);
    for (int j = 0; j < kBlock; ++j)
      y[j] = d * static_cast<float>((nibble(b + 6, j) | static_cast<int>(((qh >> j) & 1u) << 4)) - 16);
  });
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  for_blocks(src, dst, n, 24, [](const uint8_t* b, float* y) {
    const float d = half_at(b), m = half_at(b + 2);
    const uint32_t qh = high_bits(b + 4);
    for (int j = 0; j < kBlock; ++j)
      y[j] = d * static_cast<float>(nibble(b + 8, j) | static_cast<int>(((qh >> j) & 1u) << 4)) + m;
  });
}

void dequantize_iq4_nl(const void* src, float* dst, int64_t n) {
  for_blocks(src, dst, n, 18, [](const uint8_t* b, float* y) {
    const float d = half_at(b);
    for (int j = 0; j < kBlock; ++j) y[j] = d * static_cast<float>(kIq4nlValues[nibble(b + 2, j)]);
  });
}

}  // namespace libquant::gguf
