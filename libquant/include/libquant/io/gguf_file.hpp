#pragma once
// GGUF files (v2 and v3): a validating reader over an mmap and a streaming
// writer that writes metadata and tensor infos first, then tensor data one
// tensor at a time (never the whole model in memory).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/mapped_file.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/io/gguf_value.hpp"

namespace libquant::io {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kGgufDefaultAlignment = 32;

struct GgufKv {
  std::string key;
  GgufValue value;
};

struct LIBQUANT_API GgufTensorInfo {
  std::string name;
  DType type;
  Shape shape;          // row-major (reverse of ne[])
  uint64_t offset = 0;  // relative to the data section
  uint64_t nbytes() const;
};

// Everything before the tensor data.
struct LIBQUANT_API GgufHeader {
  uint32_t version = 3;
  std::vector<GgufKv> kvs;
  std::vector<GgufTensorInfo> tensors;
  uint32_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;  // absolute file offset of the data section

  const GgufValue* find(std::string_view key) const noexcept;
  const GgufTensorInfo* find_tensor(std::string_view name) const noexcept;
};

// Parse and validate the header of a GGUF image. Rejects (Error ValidationFailed,
// naming the problem): wrong magic, version other than 2/3, absurd counts or
// string lengths, nested arrays, duplicate keys or tensor names, bad alignment,
// unknown tensor types, rows that do not divide into blocks, and tensor data
// that is out of bounds or not laid out contiguously.
LIBQUANT_API GgufHeader parse_gguf(std::span<const std::byte> file);

class LIBQUANT_API GgufFile {
 public:
  explicit GgufFile(const std::filesystem::path& path);
  const GgufHeader& header() const noexcept { return header_; }
  TensorView view(const GgufTensorInfo& t) const;
  void release(const GgufTensorInfo& t) const noexcept;
  // Copy bytes [offset, offset + dst.size()) of the tensor's data (pread).
  void read(const GgufTensorInfo& t, uint64_t offset, std::span<std::byte> dst) const;
  uint64_t file_size() const noexcept { return file_.size(); }
  const std::filesystem::path& path() const noexcept { return file_.path(); }

 private:
  MappedFile file_;
  GgufHeader header_;
};

// Where a resumable writer keeps its partial file, and how many tensors of it
// an earlier run completed.
struct GgufResume {
  std::filesystem::path partial;
  size_t tensors_done = 0;
  std::optional<uint32_t> crc32;  // of the partial file up to the resume point, as recorded
};

// Streaming writer: declare all KVs and tensor infos, then write tensor data
// in declaration order, then finish(). The output appears atomically.
class LIBQUANT_API GgufWriter {
 public:
  GgufWriter(std::filesystem::path path, std::vector<GgufKv> kvs,
             const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& tensors,
             uint32_t alignment = kGgufDefaultAlignment, std::optional<GgufResume> resume = std::nullopt);
  ~GgufWriter();

  // Write the next tensor's bytes (must match its declared byte size).
  void write_tensor(std::span<const std::byte> data);
  // Append part of the current tensor's bytes; the tensor is complete (and
  // padded) once its declared byte size has been written.
  void write_tensor_part(std::span<const std::byte> data);
  void finish();
  const GgufHeader& header() const noexcept { return header_; }
  // Tensors completely written (including those an earlier run wrote).
  size_t tensors_done() const noexcept { return next_; }
  // Make everything written so far durable (before recording a checkpoint).
  void sync();
  // Bytes written so far and their CRC-32 (resumable writers; for the checkpoint record).
  uint64_t bytes_written() const noexcept;
  uint32_t crc32() const noexcept;

 private:
  GgufHeader header_;
  std::unique_ptr<AtomicFile> out_;
  size_t next_ = 0;
  uint64_t part_written_ = 0;
};

// Serialise header (KVs, tensor infos, padding to alignment) exactly as written.
LIBQUANT_API std::vector<std::byte> serialize_gguf_header(const GgufHeader& h);
// Assign offsets: tensors back to back, each padded to the alignment.
LIBQUANT_API void layout_gguf_tensors(GgufHeader& h);

}  // namespace libquant::io
