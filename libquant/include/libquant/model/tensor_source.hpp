#pragma once
// TensorSource: one lazy, streaming interface over a checkpoint, whatever its
// file format. Names are always in GGUF convention; HF checkpoints are renamed
// and their Q/K rows permuted on the fly, GGUF files are passed through and
// dequantized per row block when asked for f32.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <string>
#include <vector>

#include "libquant/core/tensor.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::model {

struct SourceTensor {
  std::string name;         // GGUF name
  std::string source_name;  // name in the file it comes from
  DType dtype;
  Shape shape;
  uint64_t nbytes = 0;
  uint32_t shard = 0;  // a split GGUF's file holding it (from 0); 0 for every other source
};

enum class SourceKind { HfDirectory, GgufFile, LittleBit };

class LIBQUANT_API TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual SourceKind kind() const noexcept = 0;
  virtual const std::filesystem::path& path() const noexcept = 0;
  virtual const std::vector<SourceTensor>& tensors() const noexcept = 0;
  const SourceTensor* find(std::string_view gguf_name) const noexcept;

  // Rows [row0, row0 + n_rows) of the tensor in its stored dtype and GGUF
  // layout (permuted if needed), copied into dst with pread (no page faults,
  // no growth of the resident set). A row is the last dimension; a 1-D
  // tensor is one row.
  virtual void read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const = 0;
  // The whole tensor's bytes (read_rows over every row).
  Tensor read_raw(const SourceTensor& t) const;
  // The tensor decoded to f32 (throws UnsupportedConversion for undecodable
  // types). Int8 weights of compressed-tensors checkpoints are multiplied by
  // their per-channel or per-tensor `weight_scale`.
  Tensor read_f32(const SourceTensor& t) const;
  // q * scale for an int8 weight and its scale tensor ([rows, 1] or [1]).
  Tensor read_int8_dequantized(const SourceTensor& t, const SourceTensor& scale) const;
  // Hint that the tensor's pages are no longer needed (keeps RSS flat).
  virtual void release(const SourceTensor& t) const noexcept = 0;
  // Total bytes of tensor data in the source.
  uint64_t total_bytes() const noexcept;
  uint64_t parameter_count() const noexcept;
  // A source that presents another one with changes (OverlaySource) returns
  // it here, so that hf_config / gguf_header see through it.
  virtual const TensorSource* wrapped() const noexcept { return nullptr; }
  // Sources that carry model metadata as GGUF keys without being GGUF files
  // (.littlebit) return it here; gguf_header() sees it.
  virtual const io::GgufHeader* metadata_header() const noexcept { return nullptr; }

 private:
  // Name -> index into tensors(), built on the first find(): lookups stay
  // O(1) however many tensors a (hostile) file declares.
  mutable std::once_flag index_once_;
  mutable std::unordered_map<std::string_view, size_t> index_;
};

// Opens an HF directory (config.json + safetensors), a .gguf file or a
// .littlebit file (recognised by its magic; see model/littlebit_source.hpp).
// Throws Error(ModelNotFound) when the path does not exist.
LIBQUANT_API std::unique_ptr<TensorSource> open_tensor_source(const std::filesystem::path& path);

// Accessors for the format-specific parts (nullptr when the source is of the other kind).
LIBQUANT_API const ModelConfig* hf_config(const TensorSource& s) noexcept;
LIBQUANT_API const io::GgufHeader* gguf_header(const TensorSource& s) noexcept;

}  // namespace libquant::model
