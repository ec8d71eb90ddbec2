#pragma once
// A GGUF model as a TensorSource: one file, or every shard of a split GGUF
// (gguf-split / llama-quantize --keep-split) opened from the first one.
#include <filesystem>
#include <memory>
#include <vector>

#include "libquant/io/gguf_file.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::model {

class GgufTensorSource final : public TensorSource {
 public:
  // Throws InvalidArgument for a shard other than the first, ModelNotFound
  // for a missing shard, ValidationFailed for shards that disagree (numbers,
  // counts, a tensor in two shards, a total other than `split.tensors.count`).
  explicit GgufTensorSource(const std::filesystem::path& path);
  SourceKind kind() const noexcept override { return SourceKind::GgufFile; }
  const std::filesystem::path& path() const noexcept override { return path_; }
  const std::vector<SourceTensor>& tensors() const noexcept override { return tensors_; }
  // The first shard's metadata with every shard's tensors (offsets are each shard's own).
  const io::GgufHeader& header() const noexcept { return header_; }
  size_t shard_count() const noexcept { return files_.size(); }

  void read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const override;
  void release(const SourceTensor& t) const noexcept override;

 private:
  const io::GgufTensorInfo& info_of(const SourceTensor& t) const noexcept;

  std::filesystem::path path_;
  std::vector<std::unique_ptr<io::GgufFile>> files_;
  io::GgufHeader header_;
  std::vector<SourceTensor> tensors_;
  std::vector<size_t> index_in_shard_;  // per tensor, its place in files_[shard]'s header
};

}  // namespace libquant::model
