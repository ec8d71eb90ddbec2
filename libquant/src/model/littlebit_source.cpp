#include "libquant/model/littlebit_source.hpp"

#include <cstring>

#include "libquant/core/error.hpp"

namespace libquant::model {
namespace {

class LittleBitSource final : public TensorSource {
 public:
  explicit LittleBitSource(const std::filesystem::path& path) : path_(path), file_(path) {
    for (const auto& t : file_.info().tensors) {
      if (t.kind == io::LittleBitTensorKind::Metadata) continue;
      const DType d = t.kind == io::LittleBitTensorKind::Factors ? DType::F32 : t.dtype;
      tensors_.push_back({t.name, t.name, d, t.shape, storage_bytes(d, t.shape.numel())});
      entries_.push_back(&t);
    }
  }
  SourceKind kind() const noexcept override { return SourceKind::LittleBit; }
  const std::filesystem::path& path() const noexcept override { return path_; }
  const std::vector<SourceTensor>& tensors() const noexcept override { return tensors_; }
  const io::GgufHeader* metadata_header() const noexcept override { return &file_.metadata_header(); }
  const io::LittleBitFile& file() const noexcept { return file_; }

  void read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const override {
    const io::LittleBitTensorInfo& e = *entries_.at(static_cast<size_t>(&t - tensors_.data()));
    const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
    check(row0 + n_rows <= rows, ErrorCode::InvalidArgument, "row range outside tensor '" + t.name + "'");
    if (e.kind == io::LittleBitTensorKind::Dense) {
      const uint64_t rb = t.nbytes / rows;
      std::memcpy(dst, file_.block(e).data() + row0 * rb, n_rows * rb);
      return;
    }
    file_.factors(e).reconstruct_rows(static_cast<int64_t>(row0), static_cast<int64_t>(n_rows),
                                      reinterpret_cast<float*>(dst));
  }
  void release(const SourceTensor&) const noexcept override {}

 private:
  std::filesystem::path path_;
  io::LittleBitFile file_;
  std::vector<SourceTensor> tensors_;
  std::vector<const io::LittleBitTensorInfo*> entries_;
};

}  // namespace

std::unique_ptr<TensorSource> open_littlebit_source(const std::filesystem::path& path) {
  return std::make_unique<LittleBitSource>(path);
}

const io::LittleBitFile* littlebit_file(const TensorSource& s) noexcept {
  if (const auto* lb = dynamic_cast<const LittleBitSource*>(&s)) return &lb->file();
  return s.wrapped() ? littlebit_file(*s.wrapped()) : nullptr;
}

std::unique_ptr<cpu::LittleBitFactors> littlebit_factors(const TensorSource& s, std::string_view name) {
  const io::LittleBitFile* f = littlebit_file(s);
  if (!f) return nullptr;
  const io::LittleBitTensorInfo* t = f->info().find(name);
  if (!t || t->kind != io::LittleBitTensorKind::Factors) return nullptr;
  return std::make_unique<cpu::LittleBitFactors>(f->factors(*t));
}

}  // namespace libquant::model
