#pragma once
// How state-space and linear-attention tensors change between HF checkpoints
// and GGUF, as llama.cpp's converter changes them (internal to the tensor source):
// shapes (Mamba-2's A and D as [heads, 1], convolutions without their unit
// axis, Mamba-2's gated norm one row per group) and Qwen3.5's value-head order.
#include <cstdint>
#include <string>

#include "libquant/core/tensor.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::model {

// The GGUF shape of an HF tensor of a state-space / DeltaNet family (the same values, row-major).
Shape ssm_gguf_shape(const std::string& gguf_name, const Shape& hf, const ModelConfig& c, const ArchitectureInfo& arch);

// Qwen3.5 stores the value heads of its DeltaNet grouped by key head
// ([k0: v0 v1, k1: v0 v1]); GGUF tiles them ([v0: k0 k1, v1: k0 k1]) so that
// ggml can broadcast the key heads. `source` gives the HF position of a GGUF
// position along the reordered axis: rows (of one head's `dim` rows) from
// `first` on, the elements of a vector, or the columns of every row.
struct HeadOrder {
  enum class Axis : uint8_t { None, Rows, Elements, Columns };
  Axis axis = Axis::None;
  int64_t first = 0, dim = 1, key_heads = 1, per_key = 1;
  int64_t source(int64_t p) const noexcept {
    if (axis == Axis::None || p < first) return p;
    const int64_t q = p - first, d = q % dim, head = q / dim, j = head / key_heads, k = head % key_heads;
    return first + (k * per_key + j) * dim + d;
  }
};
HeadOrder head_order(const std::string& gguf_name, const Shape& shape, const ModelConfig& c, const ArchitectureInfo& arch);

}  // namespace libquant::model
