#pragma once
// The native .littlebit file (docs/formats/littlebit.md):
//
//   [preamble, 64 bytes] "LITLBIT\0", u32 version, u32 flags, zeros
//   [data]               tensor blocks, each starting on a 64-byte boundary
//   [index]              UTF-8 JSON: model info, compression settings, the
//                        tensor table (name, kind, shape, rank, offset, size,
//                        CRC-32 of the block, statistics)
//   [trailer, 32 bytes]  u64 index offset, u64 index size, u32 index CRC-32,
//                        u32 file CRC-32 (every byte before this field),
//                        "LBITEND\0"
//
// The writer streams: blocks are written as they are produced and the index
// follows them. A factorized tensor's block holds, per path, the packed sign
// matrices S_U [out, rank] and S_V [rank, in] (cpu/sign_matrix.hpp layout,
// set bit = -1) and the f16 scales h [out], l [rank], g [in], each part
// 64-byte aligned so that a reader can mmap and run them in place. Tensors
// that are not factorized (embeddings, norms, output) are stored as plain
// F16 / BF16 / F32 arrays. Model metadata (architecture hyper-parameters,
// tokenizer) is one block holding a tensor-less GGUF header, so every
// consumer of GGUF metadata reads it unchanged.
//
// All integers are little-endian. Any corrupted byte is caught: the file
// CRC covers everything but the last 12 bytes, which are checked by value.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/mapped_file.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::io {

inline constexpr uint32_t kLittleBitVersion = 1;
inline constexpr uint64_t kLittleBitAlignment = 64;
inline constexpr uint64_t kLittleBitPreambleSize = 64;
inline constexpr uint64_t kLittleBitTrailerSize = 32;

enum class LittleBitTensorKind { Factors, Dense, Metadata };

struct LittleBitTensorInfo {
  std::string name;  // GGUF name ("blk.0.attn_q.weight"); "__metadata__" for the metadata block
  LittleBitTensorKind kind = LittleBitTensorKind::Dense;
  Shape shape;               // factors: [out, in]
  DType dtype = DType::F16;  // dense: how it is stored
  int64_t rank = 0;          // factors
  int paths = 0;             // factors: 1, or 2 with the residual path
  uint64_t offset = 0;       // absolute file offset of the block
  uint64_t size = 0;         // bytes of the block
  uint32_t crc32 = 0;
  double weight_error = -1;   // factors: ||W - W_hat||_F / ||W||_F (-1: unknown)
  double output_error = -1;   // factors: relative squared output error on calibration inputs
  double original_bits = 16;  // bits per weight of the source tensor (for the compression ratio)
};

struct LIBQUANT_API LittleBitFileInfo {
  uint32_t version = kLittleBitVersion;
  std::string source_model;
  std::string architecture;  // HF class name, e.g. "LlamaForCausalLM"
  double target_bpw = 0;
  bool residual = true;
  std::string refinement;  // "none" or "activation-aware"
  std::string created_by;
  uint64_t original_size_bytes = 0;
  std::vector<LittleBitTensorInfo> tensors;

  const LittleBitTensorInfo* find(std::string_view name) const noexcept;
};

// Bytes of a factorized tensor's block, and where each part of path p starts
// inside it (u, v, h, l, g).
struct LittleBitBlockLayout {
  struct Part {
    uint64_t u, v, h, l, g;
  };
  std::vector<Part> paths;
  uint64_t size = 0;
};
LIBQUANT_API LittleBitBlockLayout littlebit_block_layout(int64_t out, int64_t in, int64_t rank, int paths);

LIBQUANT_API std::vector<std::byte> encode_factors(const cpu::LittleBitFactors& f);
// Throws Error(ValidationFailed) when the block does not match the layout.
LIBQUANT_API cpu::LittleBitFactors decode_factors(std::span<const std::byte> block, int64_t out, int64_t in,
                                                  int64_t rank, int paths);

LIBQUANT_API uint32_t crc32(std::span<const std::byte> data, uint32_t crc = 0) noexcept;

class LIBQUANT_API LittleBitWriter {
 public:
  // Creates the file atomically at `path` (nothing appears there unless finish() is reached).
  LittleBitWriter(std::filesystem::path path, LittleBitFileInfo info);
  ~LittleBitWriter();
  void write_metadata(const std::vector<GgufKv>& kvs);
  void write_factors(const std::string& name, const cpu::LittleBitFactors& f, double weight_error = -1,
                     double output_error = -1, double original_bits = 16);
  void write_dense(const std::string& name, const Tensor& t, double original_bits = 16);  // F16, BF16 or F32
  void finish();
  uint64_t bytes_written() const noexcept;

 private:
  void write_block(LittleBitTensorInfo entry, std::span<const std::byte> block);
  LittleBitFileInfo info_;
  std::unique_ptr<AtomicFile> out_;
  uint32_t crc_ = 0;
};

// The index as JSON (what the file stores), and back. Parsing throws
// Error(ValidationFailed) naming the problem.
LIBQUANT_API std::string littlebit_index_json(const LittleBitFileInfo& info);
LIBQUANT_API LittleBitFileInfo parse_littlebit_index(std::string_view json);

// Checks preamble, trailer, both CRCs and the index of a file image; returns
// the index. Throws Error(ValidationFailed) for any inconsistency.
LIBQUANT_API LittleBitFileInfo parse_littlebit(std::span<const std::byte> file);
LIBQUANT_API bool is_littlebit_file(const std::filesystem::path& path) noexcept;

class LIBQUANT_API LittleBitFile {
 public:
  // Maps and fully validates the file (file CRC, index, every block's CRC).
  explicit LittleBitFile(const std::filesystem::path& path);
  const LittleBitFileInfo& info() const noexcept { return info_; }
  const std::vector<GgufKv>& metadata() const noexcept { return metadata_.kvs; }
  const GgufHeader& metadata_header() const noexcept { return metadata_; }
  std::span<const std::byte> block(const LittleBitTensorInfo& t) const;
  cpu::LittleBitFactors factors(const LittleBitTensorInfo& t) const;
  uint64_t file_size() const noexcept { return file_.size(); }
  const std::filesystem::path& path() const noexcept { return file_.path(); }

 private:
  MappedFile file_;
  LittleBitFileInfo info_;
  GgufHeader metadata_;
};

}  // namespace libquant::io
