#pragma once
// Mixture-of-experts weights as GGUF holds them: one [experts, rows, cols]
// tensor per projection, presented over the checkpoint's per-expert 2-D
// weights without copying them (each row range is read from its expert's
// own tensor).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/tensor.hpp"
#include "libquant/io/safetensors.hpp"

namespace libquant::model {

class ExpertStack {
 public:
  using Located = io::SafetensorsCheckpoint::Located;
  // `parts` pairs expert indices with their weights, in any order. Throws
  // Error(ValidationFailed) naming the stack unless they are exactly experts
  // 0 .. n_experts-1, each once, all of one dtype and one 2-D shape.
  ExpertStack(std::string gguf_name, std::vector<std::pair<int64_t, Located>> parts, int64_t n_experts);

  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  uint64_t nbytes() const noexcept { return part_bytes_ * parts_.size(); }
  // "model.layers.0.mlp.experts.*.gate_proj.weight": the source names, for messages.
  const std::string& source_pattern() const noexcept { return pattern_; }
  // Rows [row0, row0 + n_rows) of the stack (a row: one row of one expert).
  void read_rows(uint64_t row0, uint64_t n_rows, std::byte* dst) const;
  void release() const noexcept;

 private:
  std::vector<Located> parts_;  // by expert index
  DType dtype_ = DType::F32;
  Shape shape_;
  uint64_t rows_per_expert_ = 0, row_bytes_ = 0, part_bytes_ = 0;
  std::string name_, pattern_;
};

}  // namespace libquant::model
