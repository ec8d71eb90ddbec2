#pragma once
// Shapes are in row-major (numpy / PyTorch) order: the LAST dimension is the
// contiguous one. GGUF's ne[] is the reverse; io/gguf converts at the boundary.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  size_t rank() const noexcept { return dims_.size(); }
  int64_t operator[](size_t i) const { return dims_.at(i); }
  const std::vector<int64_t>& dims() const noexcept { return dims_; }
  // Number of elements (1 for a rank-0 scalar). Throws on overflow.
  uint64_t numel() const;
  // Length of a row (last dim), 1 for scalars.
  int64_t row_length() const noexcept { return dims_.empty() ? 1 : dims_.back(); }
  // Number of rows = numel / row_length (0 when a dim is 0).
  uint64_t rows() const;
  // GGUF ne[] order (reversed dims).
  std::vector<int64_t> ggml_ne() const { return {dims_.rbegin(), dims_.rend()}; }
  static Shape from_ggml_ne(const std::vector<int64_t>& ne) { return Shape({ne.rbegin(), ne.rend()}); }
  std::string to_string() const;  // "[64, 172]"
  // The shape as GGUF writers that store ggml_n_dims dimensions (llama-quantize)
  // write it: leading size-1 dimensions (ggml's trailing ones) dropped, one
  // dimension kept at least ([1, n] -> [n]).
  Shape ggml_stored() const;

  friend bool operator==(const Shape&, const Shape&) = default;

 private:
  std::vector<int64_t> dims_;
};

}  // namespace libquant
