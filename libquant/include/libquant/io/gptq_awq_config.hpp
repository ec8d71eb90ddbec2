#pragma once
// The `quantization_config` of GPTQ (AutoGPTQ / GPTQModel, `quant_method:
// gptq`) and AutoAWQ GEMM (`quant_method: awq`, `version: gemm`)
// checkpoints, as transformers reads them from config.json. The tensor
// layouts are described in docs/weight-only.md.
#include <cstdint>
#include <string>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {
class JsonWriter;
}

namespace libquant::io {

enum class IntCheckpointLayout { Gptq, AwqGemm };

struct LIBQUANT_API GptqAwqConfig {
  IntCheckpointLayout layout = IntCheckpointLayout::Gptq;
  int bits = 4;                 // 2, 3, 4, 8 (AWQ: 4)
  int64_t group_size = 128;     // -1: one group per row (GPTQ only)
  bool symmetric = true;        // GPTQ `sym`; AWQ writes zero points either way (`zero_point: true`)
  bool desc_act = false;        // GPTQ: columns in activation order (g_idx not c / group)
  bool static_groups = false;   // GPTQ: activation order with the natural groups
  double damp = 0.01;           // GPTQ `damp_percent` (informational)
  bool zeros_minus_one = true;  // GPTQ: `checkpoint_format` gptq (v1, zeros stored minus one) or gptq_v2
};

// Parses a quantization_config object (JSON text) with quant_method gptq or
// awq. Throws Error(ValidationFailed) for malformed JSON or fields of the
// wrong type or range (bits outside 2/3/4/8, AWQ other than 4-bit GEMM),
// Error(UnsupportedConversion) for other methods or AWQ versions.
LIBQUANT_API GptqAwqConfig parse_gptq_awq_config(std::string_view json);
// The object as the reference tools write it (keys sorted).
LIBQUANT_API void write_gptq_awq_config(JsonWriter& w, const GptqAwqConfig& c);
// quant_method of a quantization_config object ("" when absent or not JSON).
LIBQUANT_API std::string quant_method_of(std::string_view json);

}  // namespace libquant::io
