#pragma once
// Q8_0: blocks of 32 int8 with one f16 scale d = amax/127 (llama.cpp layout).
#include <cstdint>

namespace libquant::gguf {

struct BlockQ8_0 {
  uint16_t d;  // f16
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34);

void dequantize_q8_0(const void* src, float* dst, int64_t n);

}  // namespace libquant::gguf
