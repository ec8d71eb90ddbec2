#include <cstdlib>
#include <cstring>
#include <limits>

#include "libquant/core/error.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/core/tensor.hpp"

namespace libquant {

uint64_t Shape::numel() const {
  uint64_t n = 1;
  for (int64_t d : dims_) {
    if (d < 0) throw Error(ErrorCode::ValidationFailed, "negative dimension in shape " + to_string());
    const auto ud = static_cast<uint64_t>(d);
    if (ud != 0 && n > std::numeric_limits<uint64_t>::max() / ud)
      throw Error(ErrorCode::ValidationFailed, "element count of shape " + to_string() + " overflows");
    n *= ud;
  }
  return n;
}

uint64_t Shape::rows() const {
  const int64_t r = row_length();
  return r == 0 ? 0 : numel() / static_cast<uint64_t>(r);
}

Shape Shape::ggml_stored() const {
  size_t lead = 0;
  while (lead + 1 < dims_.size() && dims_[lead] == 1) ++lead;
  return Shape(std::vector<int64_t>(dims_.begin() + static_cast<std::ptrdiff_t>(lead), dims_.end()));
}

std::string Shape::to_string() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

void Tensor::Free::operator()(std::byte* p) const noexcept { std::free(p); }

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  nbytes_ = storage_bytes(dtype_, shape_.numel());
  const size_t alloc = ((nbytes_ + 63) / 64) * 64;
  void* p = alloc ? std::aligned_alloc(64, alloc) : nullptr;
  if (alloc && !p) throw Error(ErrorCode::OutOfMemory, "cannot allocate " + std::to_string(nbytes_) + " bytes");
  if (p) std::memset(p, 0, alloc);
  data_.reset(static_cast<std::byte*>(p));
}

Tensor Tensor::copy_of(const TensorView& view) {
  Tensor t(view.dtype, view.shape);
  check(view.bytes.size() == t.nbytes(), ErrorCode::ValidationFailed, "tensor view size does not match its shape");
  if (t.nbytes()) std::memcpy(t.data(), view.bytes.data(), t.nbytes());
  return t;
}

}  // namespace libquant
