#pragma once
// compressed-tensors (llm-compressor's checkpoint layout): the
// `quantization_config` of config.json, read and written as the
// compressed-tensors package does (sorted keys, indent 2), and the names of
// the per-layer quantization tensors. The tensors themselves are plain
// safetensors entries (io/safetensors.hpp).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {
class JsonWriter;
}

namespace libquant::io {

// One QuantizationArgs (weights or input activations).
struct CtQuantArgs {
  int num_bits = 8;
  std::string type = "int";  // "int" | "float"
  bool symmetric = true;
  std::string strategy = "channel";  // "tensor" | "channel" | "group" | "block" | "token" | ...
  bool dynamic = false;
  std::optional<int64_t> group_size;
  std::optional<std::string> actorder;  // GPTQ's "weight" (static groups) or "group"; written only when set
};

struct CtScheme {
  std::vector<std::string> targets = {"Linear"};
  std::optional<CtQuantArgs> weights, input_activations;
  std::optional<std::string> format;  // per-group override of the global format
};

struct LIBQUANT_API CompressedTensorsConfig {
  std::string format = "int-quantized";
  std::string quantization_status = "compressed";
  std::vector<CtScheme> groups;     // config_groups group_0, group_1, ...
  std::vector<std::string> ignore;  // module names left unquantized ("lm_head")
  std::string version = "0.20.1";   // the compressed-tensors release whose layout we write (the pinned oracle)

  // llm-compressor's W8A8 preset: int8 symmetric per-channel weights,
  // int8 symmetric activations, dynamic per token (or static per tensor).
  static CompressedTensorsConfig w8a8(bool dynamic_activations);
  // Weight-only integer weights (W4A16 and friends) in the pack-quantized
  // format: `bits` wide, groups of `group_size` columns (-1: per channel).
  static CompressedTensorsConfig weight_only(int bits, int64_t group_size, bool symmetric,
                                             std::optional<std::string> actorder = std::nullopt);
};

// Parses a `quantization_config` object (JSON text). Throws
// Error(ValidationFailed) for malformed JSON, a quant_method other than
// "compressed-tensors", or fields of the wrong type.
LIBQUANT_API CompressedTensorsConfig parse_compressed_tensors_config(std::string_view json);
// The object as compressed-tensors writes it (every field, keys sorted).
LIBQUANT_API std::string compressed_tensors_config_json(const CompressedTensorsConfig& qc, int indent = 2);
// A whole config.json: `original` (an HF config) with its keys sorted, its
// quantization_config replaced by `qc`, indent 2 and a final newline.
LIBQUANT_API std::string config_json_with_quantization(std::string_view original, const CompressedTensorsConfig& qc);
// The same with any quantization_config object (GPTQ, AWQ) from `write`.
LIBQUANT_API std::string config_json_with_quantization(std::string_view original,
                                                       const std::function<void(JsonWriter&)>& write);

// The scheme that applies to a Linear layer named `hf_module`
// ("model.layers.0.self_attn.q_proj"): nullptr when the module is ignored or
// no group targets it. Targets "Linear" match every linear, "re:<regex>" by regex.
LIBQUANT_API const CtScheme* scheme_for(const CompressedTensorsConfig& qc, std::string_view hf_module);

// Whether the scheme is the W8A8 INT8 this library runs: int8 symmetric
// per-channel weights and int8 symmetric activations, per token dynamic or
// per tensor static. `why` says what differs.
LIBQUANT_API bool is_runnable_w8a8(const CtScheme& s, std::string* why = nullptr);

}  // namespace libquant::io
