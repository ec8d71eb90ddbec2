#pragma once
// safetensors checkpoints: a validating mmap reader for single files and for
// sharded checkpoints (model.safetensors.index.json), and a streaming writer
// that shards by size and writes the index.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libquant/core/mapped_file.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/export.hpp"

namespace libquant::io {

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // offsets relative to the data buffer
};

// One .safetensors file. The constructor validates the whole header (size cap,
// JSON shape, dtype names, byte size = dtype x shape, offsets in bounds, no
// overlaps, gaps or trailing bytes) and throws Error(ValidationFailed) naming
// the problem.
class LIBQUANT_API SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  explicit SafetensorsFile(const std::filesystem::path& path);
  // Validate an in-memory image (used by the fuzz target and tests).
  static std::vector<SafetensorsEntry> parse_header(std::span<const std::byte> file,
                                                    std::map<std::string, std::string>* metadata);

  const std::vector<SafetensorsEntry>& entries() const noexcept { return entries_; }  // file order
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  const SafetensorsEntry* find(std::string_view name) const noexcept;
  TensorView view(const SafetensorsEntry& e) const;
  void release(const SafetensorsEntry& e) const noexcept;
  // Copy bytes [offset, offset + dst.size()) of the tensor's data (pread).
  void read(const SafetensorsEntry& e, uint64_t offset, std::span<std::byte> dst) const;
  const std::filesystem::path& path() const noexcept { return file_.path(); }

 private:
  MappedFile file_;
  uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint directory or a single file: every tensor of every shard.
class LIBQUANT_API SafetensorsCheckpoint {
 public:
  // `path` is a .safetensors file, a directory holding model.safetensors, or a
  // directory with model.safetensors.index.json (every shard must exist and
  // every tensor the index names must be in its shard).
  explicit SafetensorsCheckpoint(const std::filesystem::path& path);

  struct Located {
    const SafetensorsFile* file;
    const SafetensorsEntry* entry;
  };
  const std::vector<Located>& tensors() const noexcept { return tensors_; }
  const Located* find(std::string_view name) const noexcept;
  size_t shard_count() const noexcept { return shards_.size(); }
  uint64_t total_bytes() const noexcept;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<Located> tensors_;
  std::map<std::string, size_t, std::less<>> by_name_;
};

struct SafetensorsTensorSpec {
  std::string name;
  DType dtype;
  Shape shape;
};

// Streaming writer. All tensor specs are given up front (so headers can be
// written first); tensor data is then written one tensor at a time in
// write_order(). Files appear atomically when finish() succeeds.
class LIBQUANT_API SafetensorsWriter {
 public:
  // `max_shard_bytes` 0 = one file. Shards are filled greedily in spec order;
  // a tensor larger than the limit gets a shard of its own. Single shard:
  // `<dir>/<stem>.safetensors`; several: `<stem>-0000i-of-0000K.safetensors`
  // plus `<stem>.safetensors.index.json`.
  SafetensorsWriter(std::filesystem::path dir, std::string stem, std::vector<SafetensorsTensorSpec> specs,
                    const std::map<std::string, std::string>& metadata, uint64_t max_shard_bytes = 0);
  ~SafetensorsWriter();

  // Order in which write() must be called: per shard, tensors sorted by dtype
  // alignment (descending) then name, as the reference writer lays them out.
  const std::vector<std::string>& write_order() const noexcept { return order_; }
  void write(std::string_view name, std::span<const std::byte> data);
  // Returns the paths written (shards, then the index if any).
  std::vector<std::filesystem::path> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> order_;
};

}  // namespace libquant::io
