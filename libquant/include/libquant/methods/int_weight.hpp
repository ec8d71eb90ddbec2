#pragma once
// Integer weights as compressed-tensors defines them (what GPTQ, AWQ and RTN
// W4A16 checkpoints hold): per row and group of columns a scale and (for
// asymmetric schemes) a zero point; q = clamp(round(w / scale + zero)) in
// [-2^(b-1), 2^(b-1) - 1] and w' = (q - zero) * scale, computed in the
// scale's storage dtype. Scales are rounded to that dtype before any value is
// quantized, so the integers written are exactly the ones the scales decode.
#include <cstdint>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/export.hpp"

namespace libquant::methods {

struct IntWeightScheme {
  int bits = 4;              // 2, 3, 4 or 8
  int64_t group_size = 128;  // columns sharing a scale; -1: one scale per row ("channel")
  bool symmetric = true;
  DType scale_dtype = DType::F32;  // what the checkpoint stores scales in (F32, F16, BF16)

  int qmin() const noexcept { return -(1 << (bits - 1)); }
  int qmax() const noexcept { return (1 << (bits - 1)) - 1; }
  // Scales per row for `cols` columns.
  int64_t groups(int64_t cols) const noexcept { return group_size > 0 ? cols / group_size : 1; }
  int64_t columns_per_group(int64_t cols) const noexcept { return group_size > 0 ? group_size : cols; }
};

// Throws Error(InvalidArgument) for bits outside {2, 3, 4, 8}, a group size
// other than -1 or a positive number, or a scale dtype that is not a float.
LIBQUANT_API void validate_scheme(const IntWeightScheme& s);
// Whether the scheme's groups tile a row of `cols` columns.
LIBQUANT_API bool group_size_fits(const IntWeightScheme& s, int64_t cols) noexcept;

struct LIBQUANT_API IntWeight {
  int64_t rows = 0, cols = 0;
  IntWeightScheme scheme;
  std::vector<int8_t> q;       // [rows, cols] in [qmin, qmax]
  std::vector<float> scales;   // [rows, groups], values exactly representable in scheme.scale_dtype
  std::vector<int8_t> zeros;   // [rows, groups] in [qmin, qmax]; empty when symmetric
  std::vector<int32_t> g_idx;  // [cols]: the group of each column; empty: column c is in group c / group size

  int64_t groups() const noexcept { return scheme.groups(cols); }
  int64_t group_of(int64_t c) const noexcept;
  // Row r dequantized into out[cols], as compressed-tensors decodes it.
  void dequantize_row(int64_t r, float* out) const;
  std::vector<float> dequantize() const;  // [rows, cols]
};

// The scale and zero point of values x[0, n) (compressed-tensors' min-max
// observer: the range always includes 0; symmetric: max|x| / ((qmax - qmin) / 2);
// asymmetric: (max - min) / (qmax - qmin) with zero = qmin - min / scale);
// the scale is rounded to scale_dtype, and a zero scale becomes that dtype's epsilon.
LIBQUANT_API void int_qparams(const float* x, int64_t n, const IntWeightScheme& s, float& scale, int& zero);
// q for w under (scale, zero); and back.
LIBQUANT_API int quantize_int(float w, float scale, int zero, const IntWeightScheme& s) noexcept;
LIBQUANT_API float dequantize_int(int q, float scale, int zero, DType scale_dtype) noexcept;

// Round-to-nearest: every group's parameters from its own min and max.
LIBQUANT_API IntWeight rtn_quantize(const float* w, int64_t rows, int64_t cols, const IntWeightScheme& s);

}  // namespace libquant::methods
