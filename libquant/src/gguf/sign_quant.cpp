// Q1_0 and Q2_0, the 2026 ggml's plain low-bit types: one f16 scale per block
// and no search, so quantizing is a single pass (they take no importance, as
// in ggml, whose importance path quantizes row by row to the same bytes).
// - Q1_0: 128 signs; the scale is the block's mean magnitude, which minimises
//   the squared error of sign(x) * d.
// - Q2_0: 64 codes {-1, 0, 1, 2} x d with d the block's largest magnitude;
//   no value rounds past +1 then, so ggml's quantizer never writes the +2
//   code, but files may hold it and the decoder reads it.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "block_codecs.hpp"
#include "blocks.hpp"
#include "libquant/core/half.hpp"

namespace libquant::gguf {

namespace {
constexpr int kQ1Block = 128;
constexpr int kQ2Block = 64;
}  // namespace

void quantize_q1_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* /*importance*/) {
  auto* y = static_cast<BlockQ1_0*>(dst);
  const int64_t nb = nrows * n_per_row / kQ1Block;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQ1Block;
    float sum_abs = 0.0f;  // summed in order: the scale must round as ggml's does
    for (int j = 0; j < kQ1Block; ++j) sum_abs += std::fabs(x[j]);
    y[i].d = f32_to_f16(sum_abs / kQ1Block);
    std::memset(y[i].qs, 0, sizeof y[i].qs);
    for (int j = 0; j < kQ1Block; ++j)
      if (x[j] >= 0.0f) y[i].qs[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
  }
}

void dequantize_q1_0(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ1_0*>(src);
  for (int64_t i = 0; i < n / kQ1Block; ++i) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQ1Block; ++j) dst[i * kQ1Block + j] = (x[i].qs[j / 8] >> (j % 8) & 1) ? d : -d;
  }
}

void quantize_q2_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* /*importance*/) {
  auto* y = static_cast<BlockQ2_0*>(dst);
  const int64_t nb = nrows * n_per_row / kQ2Block;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQ2Block;
    float amax = 0.0f;
    for (int j = 0; j < kQ2Block; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float id = amax > 0.0f ? 1.0f / amax : 0.0f;
    y[i].d = f32_to_f16(amax);
    std::memset(y[i].qs, 0, sizeof y[i].qs);
    for (int j = 0; j < kQ2Block; ++j) {
      const int q = std::clamp(static_cast<int>(std::round(x[j] * id)) + 1, 0, 3);
      y[i].qs[j / 4] |= static_cast<uint8_t>(q << (j % 4 * 2));
    }
  }
}

void dequantize_q2_0(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ2_0*>(src);
  for (int64_t i = 0; i < n / kQ2Block; ++i) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQ2Block; ++j)
      dst[i * kQ2Block + j] = static_cast<float>((x[i].qs[j / 4] >> (j % 4 * 2) & 3) - 1) * d;
  }
}

}  // namespace libquant::gguf
