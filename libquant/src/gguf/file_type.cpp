#include "libquant/gguf/file_type.hpp"

namespace libquant::gguf {

std::string_view file_type_name(uint32_t ftype) noexcept {
  switch (static_cast<LlamaFileType>(ftype)) {
    case LlamaFileType::AllF32:
      return "F32";
    case LlamaFileType::MostlyF16:
      return "F16";
    case LlamaFileType::MostlyQ4_0:
      return "Q4_0";
    case LlamaFileType::MostlyQ4_1:
      return "Q4_1";
    case LlamaFileType::MostlyQ8_0:
      return "Q8_0";
    case LlamaFileType::MostlyQ5_0:
      return "Q5_0";
    case LlamaFileType::MostlyQ5_1:
      return "Q5_1";
    case LlamaFileType::MostlyQ2_K:
      return "Q2_K";
    case LlamaFileType::MostlyQ3_K_S:
      return "Q3_K_S";
    case LlamaFileType::MostlyQ3_K_M:
      return "Q3_K_M";
    case LlamaFileType::MostlyQ3_K_L:
      return "Q3_K_L";
    case LlamaFileType::MostlyQ4_K_S:
      return "Q4_K_S";
    case LlamaFileType::MostlyQ4_K_M:
      return "Q4_K_M";
    case LlamaFileType::MostlyQ5_K_S:
      return "Q5_K_S";
    case LlamaFileType::MostlyQ5_K_M:
      return "Q5_K_M";
    case LlamaFileType::MostlyQ6_K:
      return "Q6_K";
    case LlamaFileType::MostlyIQ2_XXS:
      return "IQ2_XXS";
    case LlamaFileType::MostlyIQ2_XS:
      return "IQ2_XS";
    case LlamaFileType::MostlyQ2_K_S:
      return "Q2_K_S";
    case LlamaFileType::MostlyIQ3_XS:
      return "IQ3_XS";
    case LlamaFileType::MostlyIQ3_XXS:
      return "IQ3_XXS";
    case LlamaFileType::MostlyIQ1_S:
      return "IQ1_S";
    case LlamaFileType::MostlyIQ4_NL:
      return "IQ4_NL";
    case LlamaFileType::MostlyIQ3_S:
      return "IQ3_S";
    case LlamaFileType::MostlyIQ3_M:
      return "IQ3_M";
    case LlamaFileType::MostlyIQ2_S:
      return "IQ2_S";
    case LlamaFileType::MostlyIQ2_M:
      return "IQ2_M";
    case LlamaFileType::MostlyIQ4_XS:
      return "IQ4_XS";
    case LlamaFileType::MostlyIQ1_M:
      return "IQ1_M";
    case LlamaFileType::MostlyBF16:
      return "BF16";
    case LlamaFileType::MostlyTQ1_0:
      return "TQ1_0";
    case LlamaFileType::MostlyTQ2_0:
      return "TQ2_0";
    case LlamaFileType::MostlyMXFP4_MOE:
      return "MXFP4_MOE";
    case LlamaFileType::MostlyNVFP4:
      return "NVFP4";
    case LlamaFileType::MostlyQ1_0:
      return "Q1_0";
    case LlamaFileType::MostlyQ2_0:
      return "Q2_0";
  }
  return "unknown";
}

}  // namespace libquant::gguf
