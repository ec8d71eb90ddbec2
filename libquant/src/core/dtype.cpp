#include "libquant/core/dtype.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <string>

#include "libquant/core/error.hpp"

namespace libquant {
namespace {

struct Entry {
  DType type;
  DTypeTraits traits;
};

// block_bits = bytes per block * 8 for ggml types; bits per element otherwise.
constexpr Entry kTable[] = {
    {DType::F32, {"F32", 1, 32, false, true}},
    {DType::F16, {"F16", 1, 16, false, true}},
    {DType::Q4_0, {"Q4_0", 32, 18 * 8, true, true}},
    {DType::Q4_1, {"Q4_1", 32, 20 * 8, true, true}},
    {DType::Q5_0, {"Q5_0", 32, 22 * 8, true, true}},
    {DType::Q5_1, {"Q5_1", 32, 24 * 8, true, true}},
    {DType::Q8_0, {"Q8_0", 32, 34 * 8, true, true}},
    {DType::Q8_1, {"Q8_1", 32, 36 * 8, true, true}},
    {DType::Q2_K, {"Q2_K", 256, 84 * 8, true, true}},
    {DType::Q3_K, {"Q3_K", 256, 110 * 8, true, true}},
    {DType::Q4_K, {"Q4_K", 256, 144 * 8, true, true}},
    {DType::Q5_K, {"Q5_K", 256, 176 * 8, true, true}},
    {DType::Q6_K, {"Q6_K", 256, 210 * 8, true, true}},
    {DType::Q8_K, {"Q8_K", 256, 292 * 8, true, true}},
    {DType::IQ2_XXS, {"IQ2_XXS", 256, 66 * 8, true, true}},
    {DType::IQ2_XS, {"IQ2_XS", 256, 74 * 8, true, true}},
    {DType::IQ3_XXS, {"IQ3_XXS", 256, 98 * 8, true, true}},
    {DType::IQ1_S, {"IQ1_S", 256, 50 * 8, true, true}},
    {DType::IQ4_NL, {"IQ4_NL", 32, 18 * 8, true, true}},
    {DType::IQ3_S, {"IQ3_S", 256, 110 * 8, true, true}},
    {DType::IQ2_S, {"IQ2_S", 256, 82 * 8, true, true}},
    {DType::IQ4_XS, {"IQ4_XS", 256, 136 * 8, true, true}},
    {DType::I8, {"I8", 1, 8, false, true}},
    {DType::I16, {"I16", 1, 16, false, true}},
    {DType::I32, {"I32", 1, 32, false, true}},
    {DType::I64, {"I64", 1, 64, false, true}},
    {DType::F64, {"F64", 1, 64, false, true}},
    {DType::IQ1_M, {"IQ1_M", 256, 56 * 8, true, true}},
    {DType::BF16, {"BF16", 1, 16, false, true}},
    {DType::TQ1_0, {"TQ1_0", 256, 54 * 8, true, true}},
    {DType::TQ2_0, {"TQ2_0", 256, 66 * 8, true, true}},
    {DType::MXFP4, {"MXFP4", 32, 17 * 8, true, true}},
    {DType::NVFP4, {"NVFP4", 64, 36 * 8, true, true}},
    {DType::Q1_0, {"Q1_0", 128, 18 * 8, true, true}},
    {DType::Q2_0, {"Q2_0", 64, 18 * 8, true, true}},
    {DType::Bool, {"BOOL", 1, 8, false, false}},
    {DType::U8, {"U8", 1, 8, false, false}},
    {DType::U16, {"U16", 1, 16, false, false}},
    {DType::U32, {"U32", 1, 32, false, false}},
    {DType::U64, {"U64", 1, 64, false, false}},
    {DType::F8_E4M3, {"F8_E4M3", 1, 8, false, false}},
    {DType::F8_E5M2, {"F8_E5M2", 1, 8, false, false}},
    {DType::F8_E8M0, {"F8_E8M0", 1, 8, false, false}},
    {DType::F8_E4M3FNUZ, {"F8_E4M3FNUZ", 1, 8, false, false}},
    {DType::F8_E5M2FNUZ, {"F8_E5M2FNUZ", 1, 8, false, false}},
    {DType::F4, {"F4", 1, 4, false, false}},
    {DType::F6_E2M3, {"F6_E2M3", 1, 6, false, false}},
    {DType::F6_E3M2, {"F6_E3M2", 1, 6, false, false}},
    {DType::C64, {"C64", 1, 64, false, false}},
};

const Entry* lookup(DType t) noexcept {
  for (const auto& e : kTable)
    if (e.type == t) return &e;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const DTypeTraits& traits(DType t) {
  if (const Entry* e = lookup(t)) return e->traits;
  throw Error(ErrorCode::ValidationFailed, "unknown tensor type id " + std::to_string(static_cast<uint32_t>(t)));
}

bool is_valid_ggml_type_id(uint32_t id) noexcept {
  const Entry* e = lookup(static_cast<DType>(id));
  return e != nullptr && e->traits.is_ggml;
}

double bits_per_weight(DType t) {
  const DTypeTraits& tr = traits(t);
  return static_cast<double>(tr.block_bits) / tr.block_size;
}

uint64_t row_bytes(DType t, int64_t n) {
  const DTypeTraits& tr = traits(t);
  if (n < 0 || n % tr.block_size != 0)
    throw Error(ErrorCode::ValidationFailed, "row of " + std::to_string(n) + " elements is not a whole number of " +
                                                 std::string(tr.name) + " blocks (" + std::to_string(tr.block_size) +
                                                 ")");
  const uint64_t blocks = static_cast<uint64_t>(n) / tr.block_size;
  if (blocks > std::numeric_limits<uint64_t>::max() / tr.block_bits)
    throw Error(ErrorCode::ValidationFailed, "tensor byte size overflows");
  const uint64_t bits = blocks * tr.block_bits;
  if (bits % 8 != 0)
    throw Error(ErrorCode::ValidationFailed,
                std::to_string(n) + " elements of " + std::string(tr.name) + " do not fill whole bytes");
  return bits / 8;
}

uint64_t storage_bytes(DType t, uint64_t n) {
  if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw Error(ErrorCode::ValidationFailed, "element count overflows");
  return row_bytes(t, static_cast<int64_t>(n));
}

std::optional<DType> ggml_type_from_name(std::string_view name) noexcept {
  for (const auto& e : kTable)
    if (e.traits.is_ggml && iequals(e.traits.name, name)) return e.type;
  return std::nullopt;
}

std::optional<DType> safetensors_dtype_from_name(std::string_view name) noexcept {
  // safetensors names that differ from the ggml spelling of the same type
  static constexpr std::pair<std::string_view, DType> kNames[] = {
      {"BOOL", DType::Bool},
      {"U8", DType::U8},
      {"I8", DType::I8},
      {"U16", DType::U16},
      {"I16", DType::I16},
      {"F16", DType::F16},
      {"BF16", DType::BF16},
      {"U32", DType::U32},
      {"I32", DType::I32},
      {"F32", DType::F32},
      {"U64", DType::U64},
      {"I64", DType::I64},
      {"F64", DType::F64},
      {"C64", DType::C64},
      {"F8_E4M3", DType::F8_E4M3},
      {"F8_E5M2", DType::F8_E5M2},
      {"F8_E8M0", DType::F8_E8M0},
      {"F8_E4M3FNUZ", DType::F8_E4M3FNUZ},
      {"F8_E5M2FNUZ", DType::F8_E5M2FNUZ},
      {"F4", DType::F4},
      {"F6_E2M3", DType::F6_E2M3},
      {"F6_E3M2", DType::F6_E3M2},
  };
  for (const auto& [n, t] : kNames)
    if (n == name) return t;
  return std::nullopt;
}

std::string_view safetensors_dtype_name(DType t) {
  const DTypeTraits& tr = traits(t);
  if (tr.is_quantized)
    throw Error(ErrorCode::UnsupportedConversion,
                "ggml block type " + std::string(tr.name) + " has no safetensors dtype");
  return tr.name;
}

std::string_view torch_dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "float32";
    case DType::F16:
      return "float16";
    case DType::BF16:
      return "bfloat16";
    case DType::F64:
      return "float64";
    case DType::I8:
      return "int8";
    case DType::U8:
      return "uint8";
    case DType::I16:
      return "int16";
    case DType::I32:
      return "int32";
    case DType::I64:
      return "int64";
    case DType::Bool:
      return "bool";
    case DType::F8_E4M3:
      return "float8_e4m3fn";
    case DType::F8_E5M2:
      return "float8_e5m2";
    default:
      return traits(t).name;
  }
}

bool is_numeric(DType t) noexcept {
  const Entry* e = lookup(t);
  if (!e) return false;
  switch (t) {
    case DType::Bool:
    case DType::C64:
    case DType::F4:
    case DType::F6_E2M3:
    case DType::F6_E3M2:
    case DType::F8_E8M0:
    case DType::F8_E4M3FNUZ:
    case DType::F8_E5M2FNUZ:
      return false;
    default:
      return true;
  }
}

}  // namespace libquant
