#pragma once
// A TensorSource that presents another one with some tensors replaced by f32
// data (e.g. a weight after a quantization round trip), for measuring what a
// change does to the model without writing a file.
#include <map>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::model {

class LIBQUANT_API OverlaySource final : public TensorSource {
 public:
  explicit OverlaySource(const TensorSource& base);
  SourceKind kind() const noexcept override { return base_.kind(); }
  const std::filesystem::path& path() const noexcept override { return base_.path(); }
  const std::vector<SourceTensor>& tensors() const noexcept override { return tensors_; }
  void read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const override;
  void release(const SourceTensor& t) const noexcept override;
  const TensorSource* wrapped() const noexcept override { return &base_; }

  // `data` (numel floats, row-major) stands in for the tensor from now on.
  void replace(const std::string& name, std::vector<float> data);
  // Back to the base tensors.
  void clear();

 private:
  const TensorSource& base_;
  std::vector<SourceTensor> tensors_;
  std::map<std::string, std::vector<float>> replaced_;
};

}  // namespace libquant::model
