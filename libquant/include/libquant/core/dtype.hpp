#pragma once
// Element and block types. ggml/GGUF types keep their on-disk ids as enum
// values, so a DType read from a GGUF file is a plain cast; types that only
// occur in safetensors checkpoints live above 1000.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

enum class DType : uint32_t {
  // ggml types (ids as in ggml.h / GGUF tensor infos)
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
  Q2_0 = 42,
  // checkpoint-only types (safetensors)
  Bool = 1000,
  U8,
  U16,
  U32,
  U64,
  F8_E4M3,
  F8_E5M2,
  F8_E8M0,
  F8_E4M3FNUZ,
  F8_E5M2FNUZ,
  F4,
  F6_E2M3,
  F6_E3M2,
  C64,
};

struct DTypeTraits {
  std::string_view name;  // ggml name ("Q4_K", "f16") or safetensors name
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t block_bits;    // bits per block (sub-byte plain types need bits)
  bool is_quantized;      // a ggml block-quantized type
  bool is_ggml;           // may appear in a GGUF tensor info
};

// Traits for `t`; throws Error(ValidationFailed) for an unknown value.
LIBQUANT_API const DTypeTraits& traits(DType t);
// Whether `id` is a valid ggml type id in a GGUF file (removed ids are not).
LIBQUANT_API bool is_valid_ggml_type_id(uint32_t id) noexcept;

// Bytes of a row of `n` elements; throws if n is not a whole number of blocks.
LIBQUANT_API uint64_t row_bytes(DType t, int64_t n);
// Bytes of `n` elements in total (same rule as row_bytes).
LIBQUANT_API uint64_t storage_bytes(DType t, uint64_t n);
// Bits per element of the type (block bits / block size: 4.5 for Q4_0).
LIBQUANT_API double bits_per_weight(DType t);

// Case-insensitive lookup of a ggml type name ("q8_0", "F16", "bf16").
LIBQUANT_API std::optional<DType> ggml_type_from_name(std::string_view name) noexcept;
// safetensors dtype strings ("F32", "BF16", "F8_E4M3", ...).
LIBQUANT_API std::optional<DType> safetensors_dtype_from_name(std::string_view name) noexcept;
LIBQUANT_API std::string_view safetensors_dtype_name(DType t);
// The torch dtype name used in config.json ("float16", "bfloat16", ...).
LIBQUANT_API std::string_view torch_dtype_name(DType t);

// True for types that decode to real numbers (floats, ints and ggml blocks).
LIBQUANT_API bool is_numeric(DType t) noexcept;

}  // namespace libquant
