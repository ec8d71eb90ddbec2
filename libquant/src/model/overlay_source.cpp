#include "libquant/model/overlay_source.hpp"

#include <cstring>

#include "libquant/core/error.hpp"

namespace libquant::model {

OverlaySource::OverlaySource(const TensorSource& base) : base_(base), tensors_(base.tensors()) {}

void OverlaySource::read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const {
  const auto it = replaced_.find(t.name);
  if (it == replaced_.end()) {
    base_.read_rows(*base_.find(t.name), row0, n_rows, dst);
    return;
  }
  const auto row = static_cast<uint64_t>(t.shape.rank() <= 1 ? t.shape.numel() : t.shape.row_length());
  std::memcpy(dst, it->second.data() + row0 * row, n_rows * row * sizeof(float));
}

void OverlaySource::release(const SourceTensor& t) const noexcept {
  if (!replaced_.count(t.name))
    if (const SourceTensor* b = base_.find(t.name)) base_.release(*b);
}

void OverlaySource::replace(const std::string& name, std::vector<float> data) {
  for (auto& t : tensors_)
    if (t.name == name) {
      check(data.size() == static_cast<size_t>(t.shape.numel()), ErrorCode::InvalidArgument,
            "replacement of '" + name + "' has the wrong size");
      t.dtype = DType::F32;
      t.nbytes = data.size() * sizeof(float);
      replaced_[name] = std::move(data);
      return;
    }
  throw Error(ErrorCode::InvalidArgument, "no tensor '" + name + "' to replace");
}

void OverlaySource::clear() {
  // In place: callers may hold pointers into tensors().
  for (auto& t : tensors_)
    if (replaced_.count(t.name)) {
      const SourceTensor* b = base_.find(t.name);
      t.dtype = b->dtype;
      t.nbytes = b->nbytes;
    }
  replaced_.clear();
}

}  // namespace libquant::model
