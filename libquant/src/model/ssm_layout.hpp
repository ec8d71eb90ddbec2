#pragma once
// How state-space and linear-attention tensors change between HF checkpoints
// and GGUF, as llama.cpp's converter changes them (internal to the tensor source):
// shapes (Mamba-2's A and D as [heads, 1], convolutions without their unit
// axis, Mamba-2's gated norm one row per group) and Qwen3.5's value-head order.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

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
//
// Qwen3-Next's in_proj_qkvz holds, per key head, [q (dim) | k (dim) | v (width) | z (width)] rows (width:
// the value rows of that key head's group); GGUF splits it into attn_qkv ([all q | all k | all v]) and
// attn_gate ([all z]): QkvOfQkvz / ZOfQkvz give the HF row of each of their rows.
struct HeadOrder {
  enum class Axis : uint8_t { None, Rows, Elements, Columns, QkvOfQkvz, ZOfQkvz };
  Axis axis = Axis::None;
  int64_t first = 0, dim = 1, key_heads = 1, per_key = 1;
  bool gathers_rows() const noexcept { return axis == Axis::Rows || axis == Axis::QkvOfQkvz || axis == Axis::ZOfQkvz; }
  int64_t source(int64_t p) const noexcept {
    if (axis == Axis::QkvOfQkvz || axis == Axis::ZOfQkvz) {
      const int64_t group = 2 * dim + 2 * per_key, qk = key_heads * dim;
      if (axis == Axis::ZOfQkvz) return p / per_key * group + 2 * dim + per_key + p % per_key;
      if (p < qk) return p / dim * group + p % dim;
      if (p < 2 * qk) return (p - qk) / dim * group + dim + (p - qk) % dim;
      return (p - 2 * qk) / per_key * group + 2 * dim + (p - 2 * qk) % per_key;
    }
    if (axis == Axis::None || p < first) return p;
    const int64_t q = p - first, d = q % dim, head = q / dim, j = head / key_heads, k = head % key_heads;
    return first + (k * per_key + j) * dim + d;
  }
};
// Qwen3-Next's split of in_proj_qkvz [rows, cols] into attn_qkv (z = false) or attn_gate (z = true):
// the part's shape and row map; nullopt when the rows do not hold whole key-head groups.
std::optional<std::pair<Shape, HeadOrder>> qkvz_part(const Shape& qkvz, const ModelConfig& c, bool z);
HeadOrder head_order(const std::string& gguf_name, const Shape& shape, const ModelConfig& c,
                     const ArchitectureInfo& arch);

}  // namespace libquant::model
