// MXFP4 (OCP microscaling FP4): blocks of 32 E2M1 values sharing one E8M0
// power-of-two scale, as ggml stores them (GPT-OSS's experts, llama-quantize's
// MXFP4_MOE). ggml keeps the E2M1 values doubled as small integers
// {0, 1, 2, 3, 4, 6, 8, 12} and halves the scale to match, so the arithmetic
// below follows that convention to stay bit-exact with its reference
// quantizer (which takes no importance: neither does this one).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "block_codecs.hpp"
#include "blocks.hpp"

namespace libquant::gguf {

namespace {
constexpr int kBlock = 32;
constexpr int8_t kValues[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128): half the E8M0 scale, with the two smallest exponents as denormals.
float e8m0_half(uint8_t e) {
  const uint32_t bits = e < 2 ? uint32_t{0x00200000} << e : static_cast<uint32_t>(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// The code of the nearest representable value (the first on ties, as ggml).
uint8_t nearest(float x, float d) {
  uint8_t best = 0;
  float best_err = std::fabs(kValues[0] * d - x);
  for (uint8_t i = 1; i < 16; ++i) {
    const float err = std::fabs(kValues[i] * d - x);
    if (err < best_err) best = i, best_err = err;
  }
  return best;
}

// The block's exponent: floor(log2(amax)) - 2 + 127 in float, converted to an
// integer and truncated to 8 bits as ggml's (uint8_t) cast does on x86.
uint8_t block_exponent(float amax) {
  if (!(amax > 0.0f)) return 0;
  const float e = std::floor(std::log2(amax)) - 2 + 127;
  return static_cast<uint8_t>(static_cast<int32_t>(e));
}
}  // namespace

void quantize_mxfp4(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* /*importance*/) {
  auto* y = static_cast<BlockMXFP4*>(dst);
  const int64_t nb = nrows * n_per_row / kBlock;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kBlock;
    float amax = 0.0f;
    for (int j = 0; j < kBlock; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    y[i].e = block_exponent(amax);
    const float d = e8m0_half(y[i].e);
    for (int j = 0; j < kBlock / 2; ++j)
      y[i].qs[j] = static_cast<uint8_t>(nearest(x[j], d) | nearest(x[j + kBlock / 2], d) << 4);
  }
}

void dequantize_mxfp4(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockMXFP4*>(src);
  for (int64_t i = 0; i < n / kBlock; ++i) {
    const float d = e8m0_half(x[i].e);
    for (int j = 0; j < kBlock / 2; ++j) {
      dst[i * kBlock + j] = kValues[x[i].qs[j] & 0x0F] * d;
      dst[i * kBlock + j + kBlock / 2] = kValues[x[i].qs[j] >> 4] * d;
    }
  }
}

}  // namespace libquant::gguf
