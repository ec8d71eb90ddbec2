#pragma once
// The job behind `llm-quantize info`: what a checkpoint is, without reading
// its tensor data.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/export.hpp"

namespace libquant::jobs {

struct TensorSummary {
  std::string name;
  std::string type;  // dtype name
  Shape shape;
  uint64_t nbytes = 0;
};

struct ModelInfo {
  std::string model_name;
  std::string format;        // "hf" or "gguf"
  std::string architecture;  // HF class, or GGUF general.architecture
  uint64_t parameter_count = 0;
  int64_t hidden_size = 0, num_layers = 0, num_heads = 0, num_kv_heads = 0, vocab_size = 0;
  int64_t num_experts = 0, num_experts_used = 0;                                // mixture of experts (0: dense)
  int64_t ssm_heads = 0, ssm_head_dim = 0, ssm_state_size = 0, ssm_groups = 0;  // state-space layers (0: none)
  int64_t recurrent_layers = 0;  // hybrids: how many layers are linear attention (0: none, or all state-space)
  std::string dtype;             // torch dtype, or GGUF file type name
  std::string quantization;  // compressed-tensors scheme, e.g. "W8A8 int8 (activations dynamic per token)"; "" if none
  uint64_t file_size = 0;    // bytes on disk (all shards)
  double bits_per_weight = 0;  // tensor bytes * 8 / parameters
  std::string note;            // why only this much is known (a family we cannot convert); "" otherwise
  std::vector<TensorSummary> tensors;
};

LIBQUANT_API ModelInfo inspect_model(const std::filesystem::path& path);

}  // namespace libquant::jobs
