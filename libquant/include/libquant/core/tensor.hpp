#pragma once
// TensorView: a non-owning view of encoded tensor bytes (any DType, including
// ggml blocks). Tensor: the owning counterpart. Both are plain row-major.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "libquant/core/dtype.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/export.hpp"

namespace libquant {

struct TensorView {
  DType dtype = DType::F32;
  Shape shape;
  std::span<const std::byte> bytes;

  template <typename T>
  std::span<const T> as() const {
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
};

class LIBQUANT_API Tensor {
 public:
  Tensor() = default;
  // Zero-initialised storage for `shape` in `dtype` (64-byte aligned).
  Tensor(DType dtype, Shape shape);
  static Tensor copy_of(const TensorView& view);

  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  size_t nbytes() const noexcept { return nbytes_; }
  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  template <typename T>
  T* data_as() noexcept {
    return reinterpret_cast<T*>(data_.get());
  }
  template <typename T>
  const T* data_as() const noexcept {
    return reinterpret_cast<const T*>(data_.get());
  }
  TensorView view() const { return {dtype_, shape_, {data_.get(), nbytes_}}; }

 private:
  struct Free {
    void operator()(std::byte* p) const noexcept;
  };
  DType dtype_ = DType::F32;
  Shape shape_;
  size_t nbytes_ = 0;
  std::unique_ptr<std::byte[], Free> data_;
};

}  // namespace libquant
