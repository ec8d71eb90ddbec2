// TQ1_0 / TQ2_0 (ternary, BitNet b1.58 style) and Q8_K quantizers. The
// ternary types ignore importance weights, as in llama.cpp.
#include <cmath>
#include <cstring>

#include "blocks.hpp"
#include "block_codecs.hpp"
#include "libquant/core/half.hpp"
#include "quant_search.hpp"

namespace libquant::gguf {
namespace {

float absmax(const float* x, int n) {
  float amax = 0;
  for (int j = 0; j < n; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);
  return amax;
}

// -1, 0, 1 -> 0, 1, 2
int ternary(float v, float id) { return static_cast<int>(std::lround(v * id)) + 1; }

// Five trits (first most significant) as ceil(v * 256 / 243).
uint8_t pack_trits(const int* t, int count) {
  unsigned q = 0;
  for (int n = 0; n < count; ++n) q = q * 3 + static_cast<unsigned>(t[n]);
  for (int n = count; n < 5; ++n) q *= 3;
  q &= 0xFF;  // ggml keeps the running value in a byte
  return static_cast<uint8_t>((q * 256 + 242) / 243);
}

void quantize_block_tq1_0(const float* x, BlockTQ1_0& y) {
  const float d = absmax(x, kQK);
  const float id = d ? 1.0f / d : 0.0f;
  y.d = f32_to_f16(d);
  int t[5];
  for (int m = 0; m < 32; ++m) {
    for (int n = 0; n < 5; ++n) t[n] = ternary(x[m + n * 32], id);
    y.qs[m] = pack_trits(t, 5);
  }
  x += 160;
  for (int m = 0; m < 16; ++m) {
    for (int n = 0; n < 5; ++n) t[n] = ternary(x[m + n * 16], id);
    y.qs[32 + m] = pack_trits(t, 5);
  }
  x += 80;
  for (int j = 0; j < 4; ++j) {
    for (int m = 0; m < 4; ++m) t[m] = ternary(x[j + m * 4], id);
    y.qh[j] = pack_trits(t, 4);
  }
}

void quantize_block_tq2_0(const float* x, BlockTQ2_0& y) {
  const float d = absmax(x, kQK);
  const float id = d ? 1.0f / d : 0.0f;
  y.d = f32_to_f16(d);
  for (int j = 0; j < 64; j += 32, x += 128)
    for (int m = 0; m < 32; ++m) {
      unsigned q = 0;
      for (int n = 0; n < 4; ++n) q += static_cast<unsigned>(ternary(x[m + n * 32], id) & 3) << (2 * n);
      y.qs[j + m] = static_cast<uint8_t>(q);
    }
}

// Importance is ignored by these types.
template <typename Block, void (*Fn)(const float*, Block&)>
void quantize_rows_plain(const float* src, void* dst, int64_t nrows, int64_t n_per_row) {
  for_each_block<Block, kQK>(src, dst, nrows, n_per_row, nullptr,
                             [](const float* x, Block& b, const float*) { Fn(x, b); });
}

void quantize_block_q8_k(const float* x, BlockQ8_K& y) {
  float amax;
  const float max = signed_absmax(x, kQK, amax);
  if (!amax) {
    y.d = 0;
    std::memset(y.qs, 0, sizeof y.qs);
    std::memset(y.bsums, 0, sizeof y.bsums);  // ggml leaves them unset; we want deterministic bytes
    return;
  }
  const float iscale = -127.f / max;
  for (int j = 0; j < kQK; ++j) {
    const int v = nearest_int(iscale * x[j]);
    y.qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
  }
  for (int j = 0; j < 16; ++j) {
    int sum = 0;
    for (int ii = 0; ii < 16; ++ii) sum += y.qs[j * 16 + ii];
    y.bsums[j] = static_cast<int16_t>(sum);
  }
  y.d = 1 / iscale;
}

}  // namespace

void quantize_tq1_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  quantize_rows_plain<BlockTQ1_0, quantize_block_tq1_0>(src, dst, nrows, n_per_row);
}
void quantize_tq2_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  quantize_rows_plain<BlockTQ2_0, quantize_block_tq2_0>(src, dst, nrows, n_per_row);
}
void quantize_q8_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  quantize_rows_plain<BlockQ8_K, quantize_block_q8_k>(src, dst, nrows, n_per_row);
}

}  // namespace libquant::gguf
