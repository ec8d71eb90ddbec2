// The two FP4 block types of ggml, both E2M1 values that differ in their
// scales:
// - MXFP4 (OCP microscaling): blocks of 32 sharing one E8M0 power-of-two
//   scale (GPT-OSS's experts, llama-quantize's MXFP4_MOE);
// - NVFP4 (NVIDIA): blocks of 64 made of four sub-blocks of 16, each with an
//   unsigned E4M3 scale (what converted NVFP4 checkpoints hold).
// ggml keeps the E2M1 values doubled as small integers {0, 1, 2, 3, 4, 6, 8,
// 12} and halves the scales to match, so the arithmetic below follows that
// convention to stay bit-exact with its reference quantizers (which take no
// importance: neither do these).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "block_codecs.hpp"
#include "blocks.hpp"

namespace libquant::gguf {

namespace {
constexpr int kMxBlock = 32;
constexpr int kNvSub = 16;  // NVFP4 values per scale
constexpr int8_t kValues[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128): half the E8M0 scale, with the two smallest exponents as denormals.
float e8m0_half(uint8_t e) {
  const uint32_t bits = e < 2 ? uint32_t{0x00200000} << e : static_cast<uint32_t>(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Half the value of an unsigned E4M3 byte (4 exponent bits, bias 7, 3 mantissa
// bits, subnormals below exponent 1); 0x7F is NaN in E4M3, read as 0 as ggml does.
float ue4m3_half(uint8_t x) {
  if (x == 0 || x == 0x7F) return 0.0f;
  const int exp = (x >> 3) & 0xF;
  const int man = x & 0x7;
  const float raw =
      exp == 0 ? std::ldexp(static_cast<float>(man), -9) : std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
  return raw * 0.5f;
}

// The unsigned E4M3 code of a positive scale, as ggml rounds it: clamped to
// 448, mantissa rounded half up on the fourth bit (a carry moves the
// exponent), subnormals rounded to the nearest multiple of 2^-9, 0x7E at the top.
uint8_t to_ue4m3(float x) {
  if (!(x > 0.0f)) return 0;
  x = std::fmin(x, 448.0f);
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int exp = static_cast<int>((bits >> 23) & 0xFF) - 127 + 7;
  if (exp <= 0) {
    // ggml truncates x * 2^9 + 0.5 (x > 0 here); lround would differ on the float rounding of the sum.
    const int man = static_cast<int>(x * 512.0f + 0.5f);  // NOLINT(bugprone-incorrect-roundings)
    return static_cast<uint8_t>(man > 7 ? 7 : man < 1 ? 0 : man);
  }
  if (exp >= 15) return 0x7E;
  int man = static_cast<int>((bits >> 20) & 0x7) + static_cast<int>((bits >> 19) & 1);
  if (man > 7) {
    man = 0;
    if (++exp >= 15) return 0x7E;
  }
  return static_cast<uint8_t>(exp << 3 | man);
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

float abs_max(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  return amax;
}

// `n` values as n/2 bytes: value j in the low nibble of byte j, value j + n/2 in its high nibble.
void pack_halves(const float* x, int n, float d, uint8_t* qs) {
  for (int j = 0; j < n / 2; ++j) qs[j] = static_cast<uint8_t>(nearest(x[j], d) | nearest(x[j + n / 2], d) << 4);
}

void unpack_halves(const uint8_t* qs, int n, float d, float* y) {
  for (int j = 0; j < n / 2; ++j) {
    y[j] = kValues[qs[j] & 0x0F] * d;
    y[j + n / 2] = kValues[qs[j] >> 4] * d;
  }
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
  const int64_t nb = nrows * n_per_row / kMxBlock;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kMxBlock;
    y[i].e = block_exponent(abs_max(x, kMxBlock));
    pack_halves(x, kMxBlock, e8m0_half(y[i].e), y[i].qs);
  }
}

void dequantize_mxfp4(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockMXFP4*>(src);
  for (int64_t i = 0; i < n / kMxBlock; ++i) unpack_halves(x[i].qs, kMxBlock, e8m0_half(x[i].e), dst + i * kMxBlock);
}

void quantize_nvfp4(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* /*importance*/) {
  auto* y = static_cast<BlockNVFP4*>(dst);
  constexpr int kSubs = sizeof(BlockNVFP4::d);
  const int64_t nb = nrows * n_per_row / (kSubs * kNvSub);
  for (int64_t i = 0; i < nb; ++i)
    for (int s = 0; s < kSubs; ++s) {
      const float* x = src + (i * kSubs + s) * kNvSub;
      // The scale maps E2M1's largest value (6) to the sub-block's largest magnitude.
      y[i].d[s] = to_ue4m3(abs_max(x, kNvSub) / 6.0f);
      pack_halves(x, kNvSub, ue4m3_half(y[i].d[s]), y[i].qs + s * kNvSub / 2);
    }
}

void dequantize_nvfp4(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockNVFP4*>(src);
  constexpr int kSubs = sizeof(BlockNVFP4::d);
  for (int64_t i = 0; i < n / (kSubs * kNvSub); ++i)
    for (int s = 0; s < kSubs; ++s)
      unpack_halves(x[i].qs + s * kNvSub / 2, kNvSub, ue4m3_half(x[i].d[s]), dst + (i * kSubs + s) * kNvSub);
}

}  // namespace libquant::gguf
