#pragma once
// Row encoders/decoders between f32 and ggml types. One table entry per type;
// later issues add the k- and i-quants to the same table.
#include <cstddef>
#include <cstdint>

#include "libquant/core/dtype.hpp"
#include "libquant/export.hpp"

namespace libquant::gguf {

// Whether quantize_rows / dequantize_rows support the type.
LIBQUANT_API bool can_quantize(DType t) noexcept;
LIBQUANT_API bool can_dequantize(DType t) noexcept;
// Types whose encoders give garbage without importance data (llama-quantize
// refuses them): IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M.
LIBQUANT_API bool needs_importance(DType t) noexcept;

// Encode `n_rows` rows of `n_per_row` floats into `dst` (row_bytes each).
// `importance` (n_per_row floats, may be null) is used by types that support it.
LIBQUANT_API void quantize_rows(DType t, const float* src, void* dst, int64_t n_rows, int64_t n_per_row,
                                const float* importance = nullptr);
// Decode `n` elements (a whole number of blocks) of type t into floats.
LIBQUANT_API void dequantize(DType t, const void* src, float* dst, int64_t n);

// Reference (scalar) Q8_0 block codec, exposed for tests and benchmarks.
LIBQUANT_API void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n);
LIBQUANT_API void quantize_row_q8_0_fast(const float* x, void* dst, int64_t n);

}  // namespace libquant::gguf
