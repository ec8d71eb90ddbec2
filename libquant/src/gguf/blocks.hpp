#pragma once
// Memory layouts of ggml's quantized blocks (ggml-common.h). Fields are in
// file order with no padding; every size is checked against the type table.
#include <cstdint>

namespace libquant::gguf {

inline constexpr int kQK = 256;  // super-block size of the k-, i- and t-quants

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockMXFP4 {
  uint8_t e;
  uint8_t qs[16];
};  // E8M0 scale, 32 E2M1 values (low nibbles: first half)
struct BlockNVFP4 {
  uint8_t d[4];
  uint8_t qs[32];
};  // four UE4M3 scales, each for 16 E2M1 values (low nibbles: first half of the 16)
struct BlockQ1_0 {
  uint16_t d;
  uint8_t qs[16];
};  // 128 signs (bit j of byte j/8: set = +d)
struct BlockQ2_0 {
  uint16_t d;
  uint8_t qs[16];
};  // 64 two-bit codes {-1, 0, 1, 2} x d, four per byte from the low bits
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[4];
  uint8_t qs[128];
};
struct BlockIQ2_XXS {
  uint16_t d;
  uint16_t qs[32];
};
struct BlockIQ2_XS {
  uint16_t d;
  uint16_t qs[32];
  uint8_t scales[8];
};
struct BlockIQ2_S {
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t scales[8];
};
struct BlockIQ3_XXS {
  uint16_t d;
  uint8_t qs[96];
};
struct BlockIQ3_S {
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t signs[32];
  uint8_t scales[4];
};
struct BlockIQ1_S {
  uint16_t d;
  uint8_t qs[32];
  uint16_t qh[8];
};
struct BlockIQ1_M {
  uint8_t qs[32];
  uint8_t qh[16];
  uint8_t scales[8];
};
struct BlockTQ1_0 {
  uint8_t qs[48];
  uint8_t qh[4];
  uint16_t d;
};
struct BlockTQ2_0 {
  uint8_t qs[64];
  uint16_t d;
};

static_assert(sizeof(BlockMXFP4) == 17 && sizeof(BlockNVFP4) == 36);
static_assert(sizeof(BlockQ1_0) == 18 && sizeof(BlockQ2_0) == 18);
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockIQ2_XXS) == 66 && sizeof(BlockIQ2_XS) == 74 && sizeof(BlockIQ2_S) == 82);
static_assert(sizeof(BlockIQ3_XXS) == 98 && sizeof(BlockIQ3_S) == 110 && sizeof(BlockIQ1_S) == 50 &&
              sizeof(BlockIQ1_M) == 56);
static_assert(sizeof(BlockTQ1_0) == 54 && sizeof(BlockTQ2_0) == 66);

// Whether an f16 bit pattern is a finite number. Weighted searches can end
// in 0/0 on blocks whose values underflow (all weights zero); llama.cpp then
// fails validation, we fall back to the reference path for that block.
inline bool half_is_finite(uint16_t h) { return (h & 0x7C00) != 0x7C00; }

// The row/block walk every codec shares: `fn(x, block, importance)` for each
// block of kSize values, with the importance slice of the block's columns
// (the importance vector covers one row and is shared by all rows).
template <typename Block, int kSize, typename Fn>
void for_each_block(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw, Fn&& fn) {
  auto* y = static_cast<Block*>(dst);
  const int64_t nb = n_per_row / kSize;
  for (int64_t r = 0; r < nrows; ++r)
    for (int64_t i = 0; i < nb; ++i) fn(src + r * n_per_row + i * kSize, y[r * nb + i], qw ? qw + i * kSize : nullptr);
}

// The 16 non-uniform levels of IQ4_NL / IQ4_XS.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Packs a Q4_K/Q5_K sub-block's 6-bit scale and min into the 12-byte array.
inline void pack_scale_min_k4(int j, uint8_t ls, uint8_t lm, uint8_t* scales) {
  if (j < 4) {
    scales[j] = ls;
    scales[j + 4] = lm;
  } else {
    scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
    scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    scales[j] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}
inline void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Q3_K: 16 signed 6-bit sub-block scales (stored +32) in 12 bytes.
inline void pack_scale_q3_k(int j, int l, uint8_t* scales) {
  if (j < 8)
    scales[j] = static_cast<uint8_t>(l & 0xF);
  else
    scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
  scales[j % 4 + 8] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
}
inline int unpack_scale_q3_k(int j, const uint8_t* scales) {
  const int lo = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
  return (lo | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

}  // namespace libquant::gguf
