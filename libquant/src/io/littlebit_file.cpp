// .littlebit writer and validating reader (layout in io/littlebit_file.hpp).
#include "libquant/io/littlebit_file.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "libquant/core/error.hpp"

namespace libquant::io {
namespace {

constexpr char kMagic[8] = {'L', 'I', 'T', 'L', 'B', 'I', 'T', '\0'};
constexpr char kEndMagic[8] = {'L', 'B', 'I', 'T', 'E', 'N', 'D', '\0'};

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "littlebit file: " + what,
              "The file is damaged or truncated; copy it again or compress again (`littlebit_compress`)");
}

uint64_t dense_bytes(const LittleBitTensorInfo& t) { return storage_bytes(t.dtype, t.shape.numel()); }

}  // namespace

LittleBitWriter::LittleBitWriter(std::filesystem::path path, LittleBitFileInfo info)
    : info_(std::move(info)), out_(std::make_unique<AtomicFile>(std::move(path))) {
  info_.tensors.clear();
  std::byte pre[kLittleBitPreambleSize] = {};
  std::memcpy(pre, kMagic, 8);
  const uint32_t version = kLittleBitVersion, flags = 0;
  std::memcpy(pre + 8, &version, 4);
  std::memcpy(pre + 12, &flags, 4);
  out_->write(pre, sizeof pre);
  crc_ = crc32({pre, sizeof pre});
}

LittleBitWriter::~LittleBitWriter() = default;

uint64_t LittleBitWriter::bytes_written() const noexcept { return out_ ? out_->size() : 0; }

void LittleBitWriter::write_block(LittleBitTensorInfo e, std::span<const std::byte> block) {
  check(out_ != nullptr, ErrorCode::General, "littlebit writer already finished");
  check(info_.find(e.name) == nullptr, ErrorCode::General, "tensor '" + e.name + "' written twice");
  const uint64_t pad = (kLittleBitAlignment - out_->size() % kLittleBitAlignment) % kLittleBitAlignment;
  static const std::byte zeros[kLittleBitAlignment] = {};
  out_->write(zeros, pad);
  crc_ = crc32({zeros, pad}, crc_);
  e.offset = out_->size();
  e.size = block.size();
  e.crc32 = crc32(block);
  out_->write(block);
  crc_ = crc32(block, crc_);
  info_.tensors.push_back(std::move(e));
}

void LittleBitWriter::write_metadata(const std::vector<GgufKv>& kvs) {
  GgufHeader h;
  h.kvs = kvs;
  layout_gguf_tensors(h);
  const auto bytes = serialize_gguf_header(h);
  LittleBitTensorInfo e;
  e.name = "__metadata__";
  e.kind = LittleBitTensorKind::Metadata;
  e.shape = Shape({static_cast<int64_t>(bytes.size())});
  write_block(std::move(e), bytes);
}

void LittleBitWriter::write_factors(const std::string& name, const cpu::LittleBitFactors& f, double weight_error,
                                    double output_error, double original_bits) {
  LittleBitTensorInfo e;
  e.name = name;
  e.kind = LittleBitTensorKind::Factors;
  e.shape = Shape({f.out, f.in});
  e.rank = f.rank;
  e.paths = f.path_count();
  e.weight_error = weight_error;
  e.output_error = output_error;
  e.original_bits = original_bits;
  write_block(std::move(e), encode_factors(f));
}

void LittleBitWriter::write_dense(const std::string& name, const Tensor& t, double original_bits) {
  check(t.dtype() == DType::F16 || t.dtype() == DType::BF16 || t.dtype() == DType::F32, ErrorCode::General,
        "littlebit files store dense tensors as F16, BF16 or F32");
  LittleBitTensorInfo e;
  e.name = name;
  e.kind = LittleBitTensorKind::Dense;
  e.shape = t.shape();
  e.dtype = t.dtype();
  e.original_bits = original_bits;
  write_block(std::move(e), {t.data(), t.nbytes()});
}

void LittleBitWriter::finish() {
  check(out_ != nullptr, ErrorCode::General, "littlebit writer already finished");
  const std::string index = littlebit_index_json(info_);
  const uint64_t index_offset = out_->size();
  const std::span<const std::byte> ib(reinterpret_cast<const std::byte*>(index.data()), index.size());
  out_->write(ib);
  crc_ = crc32(ib, crc_);
  std::byte tr[kLittleBitTrailerSize] = {};
  const uint64_t index_size = index.size();
  const uint32_t index_crc = crc32(ib);
  std::memcpy(tr, &index_offset, 8);
  std::memcpy(tr + 8, &index_size, 8);
  std::memcpy(tr + 16, &index_crc, 4);
  crc_ = crc32({tr, 20}, crc_);
  std::memcpy(tr + 20, &crc_, 4);
  std::memcpy(tr + 24, kEndMagic, 8);
  out_->write(tr, sizeof tr);
  out_->commit();
  out_.reset();
}

LittleBitFileInfo parse_littlebit(std::span<const std::byte> file) {
  const uint64_t n = file.size();
  if (n < kLittleBitPreambleSize + kLittleBitTrailerSize) bad("too short to be a .littlebit file");
  if (std::memcmp(file.data(), kMagic, 8) != 0) bad("wrong magic (not a .littlebit file)");
  const uint32_t version = load<uint32_t>(file.data() + 8);
  if (version != kLittleBitVersion)
    throw Error(ErrorCode::ValidationFailed,
                "littlebit format version " + std::to_string(version) + " is not supported",
                "This build reads version 1");
  const std::byte* tr = file.data() + n - kLittleBitTrailerSize;
  if (std::memcmp(tr + 24, kEndMagic, 8) != 0) bad("missing end marker (truncated?)");
  const uint64_t index_offset = load<uint64_t>(tr), index_size = load<uint64_t>(tr + 8);
  const uint32_t index_crc = load<uint32_t>(tr + 16), file_crc = load<uint32_t>(tr + 20);
  const uint64_t index_end = n - kLittleBitTrailerSize;
  if (index_offset < kLittleBitPreambleSize || index_offset > index_end || index_size != index_end - index_offset)
    bad("index position out of range");
  const auto index = file.subspan(index_offset, index_size);
  LittleBitFileInfo info;
  // Blocks first: a damaged block is then reported by name.
  if (crc32(index) == index_crc) {
    info = parse_littlebit_index({reinterpret_cast<const char*>(index.data()), index.size()});
    uint64_t prev_end = kLittleBitPreambleSize;
    int metadata = 0;
    for (const auto& t : info.tensors) {
      if (t.offset % kLittleBitAlignment || t.offset < prev_end || t.offset > index_offset ||
          t.size > index_offset - t.offset)
        bad("tensor '" + t.name + "' lies outside the data section or overlaps another");
      prev_end = t.offset + t.size;
      switch (t.kind) {
        case LittleBitTensorKind::Factors:
          if (t.size != littlebit_block_layout(t.shape[0], t.shape[1], t.rank, t.paths).size)
            bad("tensor '" + t.name + "' has the wrong size for its shape and rank");
          break;
        case LittleBitTensorKind::Dense:
          if (t.size != dense_bytes(t)) bad("tensor '" + t.name + "' has the wrong size for its shape");
          break;
        case LittleBitTensorKind::Metadata:
          ++metadata;
          break;
      }
      if (crc32(file.subspan(t.offset, t.size)) != t.crc32) bad("checksum mismatch in tensor '" + t.name + "'");
    }
    if (metadata != 1) bad("expected exactly one metadata block");
  } else {
    bad("checksum mismatch in the index");
  }
  if (crc32(file.first(n - 12)) != file_crc) bad("file checksum mismatch");
  // Bytes between blocks are zero padding; the file CRC already covers them.
  return info;
}

bool is_littlebit_file(const std::filesystem::path& path) noexcept {
  // Only regular files are looked into (a FIFO must not block the caller).
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream f(path, std::ios::binary);
  char m[8] = {};
  return f.read(m, 8) && std::memcmp(m, kMagic, 8) == 0;
}

LittleBitFile::LittleBitFile(const std::filesystem::path& path) : file_(path) {
  info_ = parse_littlebit(file_.bytes());
  for (const auto& t : info_.tensors)
    if (t.kind == LittleBitTensorKind::Metadata) metadata_ = parse_gguf(block(t));
}

std::span<const std::byte> LittleBitFile::block(const LittleBitTensorInfo& t) const {
  return file_.bytes().subspan(t.offset, t.size);
}

cpu::LittleBitFactors LittleBitFile::factors(const LittleBitTensorInfo& t) const {
  check(t.kind == LittleBitTensorKind::Factors, ErrorCode::General, "'" + t.name + "' is not factorized");
  return decode_factors(block(t), t.shape[0], t.shape[1], t.rank, t.paths);
}

}  // namespace libquant::io
