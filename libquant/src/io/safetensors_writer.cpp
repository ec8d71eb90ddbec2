#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/io/safetensors.hpp"

namespace libquant::io {
namespace fs = std::filesystem;

namespace {

// Position of a dtype in the reference implementation's Dtype enum; the writer
// sorts tensors by it (descending), then by name.
int dtype_rank(DType t) {
  static constexpr std::array kOrder = {
      DType::Bool,    DType::F4,      DType::F6_E2M3, DType::F6_E3M2,     DType::U8,          DType::I8,
      DType::F8_E5M2, DType::F8_E4M3, DType::F8_E8M0, DType::F8_E4M3FNUZ, DType::F8_E5M2FNUZ, DType::I16,
      DType::U16,     DType::F16,     DType::BF16,    DType::I32,         DType::U32,         DType::F32,
      DType::C64,     DType::F64,     DType::I64,     DType::U64};
  for (size_t i = 0; i < kOrder.size(); ++i)
    if (kOrder[i] == t) return static_cast<int>(i);
  throw Error(ErrorCode::UnsupportedConversion,
              "dtype " + std::string(traits(t).name) + " cannot be stored in safetensors");
}

uint64_t spec_bytes(const SafetensorsTensorSpec& s) {
  const uint64_t bits = s.shape.numel() * traits(s.dtype).block_bits;
  check(bits % 8 == 0, ErrorCode::InvalidArgument, "tensor '" + s.name + "' does not fill whole bytes");
  return bits / 8;
}

}  // namespace

struct SafetensorsWriter::Impl {
  struct Shard {
    fs::path path;
    std::vector<SafetensorsTensorSpec> tensors;  // write order
    std::unique_ptr<AtomicFile> file;
  };
  fs::path dir;
  std::string stem;
  std::vector<Shard> shards;
  std::map<std::string, std::pair<size_t, uint64_t>, std::less<>> where;  // name -> (shard, bytes)
  size_t next_shard = 0, next_tensor = 0;
  uint64_t total_size = 0;
};

SafetensorsWriter::SafetensorsWriter(fs::path dir, std::string stem, std::vector<SafetensorsTensorSpec> specs,
                                     const std::map<std::string, std::string>& metadata, uint64_t max_shard_bytes)
    : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(dir);
  impl_->stem = std::move(stem);
  // Greedy sharding in spec order.
  uint64_t current = 0;
  for (auto& s : specs) {
    dtype_rank(s.dtype);
    const uint64_t b = spec_bytes(s);
    if (impl_->shards.empty() || (max_shard_bytes && current > 0 && current + b > max_shard_bytes)) {
      impl_->shards.emplace_back();
      current = 0;
    }
    current += b;
    impl_->total_size += b;
    if (!impl_->where.emplace(s.name, std::make_pair(impl_->shards.size() - 1, b)).second)
      throw Error(ErrorCode::InvalidArgument, "duplicate tensor name '" + s.name + "'");
    impl_->shards.back().tensors.push_back(std::move(s));
  }
  if (impl_->shards.empty()) impl_->shards.emplace_back();
  const size_t k = impl_->shards.size();
  for (size_t i = 0; i < k; ++i) {
    auto& sh = impl_->shards[i];
    if (k == 1) {
      sh.path = impl_->dir / (impl_->stem + ".safetensors");
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "-%05zu-of-%05zu.safetensors", i + 1, k);
      sh.path = impl_->dir / (impl_->stem + buf);
    }
    std::stable_sort(sh.tensors.begin(), sh.tensors.end(), [](const auto& a, const auto& b) {
      const int ra = dtype_rank(a.dtype), rb = dtype_rank(b.dtype);
      return ra != rb ? ra > rb : a.name < b.name;
    });
    // Header: compact JSON, __metadata__ first, padded with spaces to 8 bytes.
    JsonWriter j;
    j.begin_object();
    if (!metadata.empty()) {
      j.key("__metadata__").begin_object();
      for (const auto& [mk, mv] : metadata) j.field(mk, mv);
      j.end_object();
    }
    uint64_t off = 0;
    for (const auto& t : sh.tensors) {
      const uint64_t b = spec_bytes(t);
      j.key(t.name).begin_object().field("dtype", safetensors_dtype_name(t.dtype)).key("shape").begin_array();
      for (int64_t d : t.shape.dims()) j.value(d);
      j.end_array().key("data_offsets").begin_array().value(off).value(off + b).end_array().end_object();
      off += b;
      order_.push_back(t.name);
    }
    j.end_object();
    std::string header = j.str();
    header.append((8 - header.size() % 8) % 8, ' ');
    sh.file = std::make_unique<AtomicFile>(sh.path);
    const uint64_t n = header.size();
    uint8_t len[8];
    for (int b = 0; b < 8; ++b) len[b] = static_cast<uint8_t>(n >> (8 * b));
    sh.file->write(len, 8);
    sh.file->write(header.data(), header.size());
  }
}

SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::write(std::string_view name, std::span<const std::byte> data) {
  auto& im = *impl_;
  while (im.next_shard < im.shards.size() && im.next_tensor >= im.shards[im.next_shard].tensors.size()) {
    ++im.next_shard;
    im.next_tensor = 0;
  }
  check(im.next_shard < im.shards.size(), ErrorCode::InvalidArgument, "more tensors written than declared");
  const auto& expected = im.shards[im.next_shard].tensors[im.next_tensor];
  check(expected.name == name, ErrorCode::InvalidArgument,
        "tensor '" + std::string(name) + "' written out of order (expected '" + expected.name + "')");
  check(data.size() == im.where.find(name)->second.second, ErrorCode::InvalidArgument,
        "tensor '" + std::string(name) + "' has the wrong byte size");
  im.shards[im.next_shard].file->write(data);
  ++im.next_tensor;
}

std::vector<fs::path> SafetensorsWriter::finish() {
  auto& im = *impl_;
  size_t written = 0;
  for (const auto& sh : im.shards) written += sh.tensors.size();
  size_t done = 0;
  for (size_t i = 0; i < im.next_shard; ++i) done += im.shards[i].tensors.size();
  if (im.next_shard < im.shards.size()) done += im.next_tensor;
  check(done == written, ErrorCode::InvalidArgument, "not every declared tensor was written");
  std::vector<fs::path> out;
  for (auto& sh : im.shards) {
    sh.file->commit();
    out.push_back(sh.path);
  }
  if (im.shards.size() > 1) {
    JsonWriter j(2);
    j.begin_object().key("metadata").begin_object().field("total_size", im.total_size).end_object();
    j.key("weight_map").begin_object();
    for (const auto& [name, w] : im.where) j.field(name, im.shards[w.first].path.filename().string());
    j.end_object().end_object();
    const fs::path index = im.dir / (im.stem + ".safetensors.index.json");
    AtomicFile f(index);
    std::string text = j.str() + "\n";
    f.write(text.data(), text.size());
    f.commit();
    out.push_back(index);
  }
  return out;
}

}  // namespace libquant::io
