#pragma once
// llama.cpp's file types: the llama_ftype values a GGUF file stores in
// general.file_type, and their llama-quantize names.
#include <cstdint>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant::gguf {

// llama_ftype values stored in general.file_type.
enum class LlamaFileType : uint32_t {
  AllF32 = 0,
  MostlyF16 = 1,
  MostlyQ4_0 = 2,
  MostlyQ4_1 = 3,
  MostlyQ8_0 = 7,
  MostlyQ5_0 = 8,
  MostlyQ5_1 = 9,
  MostlyQ2_K = 10,
  MostlyQ3_K_S = 11,
  MostlyQ3_K_M = 12,
  MostlyQ3_K_L = 13,
  MostlyQ4_K_S = 14,
  MostlyQ4_K_M = 15,
  MostlyQ5_K_S = 16,
  MostlyQ5_K_M = 17,
  MostlyQ6_K = 18,
  MostlyIQ2_XXS = 19,
  MostlyIQ2_XS = 20,
  MostlyQ2_K_S = 21,
  MostlyIQ3_XS = 22,
  MostlyIQ3_XXS = 23,
  MostlyIQ1_S = 24,
  MostlyIQ4_NL = 25,
  MostlyIQ3_S = 26,
  MostlyIQ3_M = 27,
  MostlyIQ2_S = 28,
  MostlyIQ2_M = 29,
  MostlyIQ4_XS = 30,
  MostlyIQ1_M = 31,
  MostlyBF16 = 32,
  MostlyTQ1_0 = 36,
  MostlyTQ2_0 = 37,
  MostlyMXFP4_MOE = 38,
  MostlyNVFP4 = 39,
  MostlyQ1_0 = 40,
  MostlyQ2_0 = 41,
};
LIBQUANT_API std::string_view file_type_name(uint32_t ftype) noexcept;

}  // namespace libquant::gguf
