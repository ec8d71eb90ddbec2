#include <cstring>

#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::io {

namespace {

class Buffer {
 public:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    bytes.insert(bytes.end(), p, p + s.size());
  }
  void put_bytes(std::span<const std::byte> b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
  void put_scalar(GgufType t, const GgufScalar& s) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            put_string(x);
          } else if constexpr (std::is_same_v<T, bool>) {
            put<uint8_t>(x ? 1 : 0);
          } else {
            put<T>(x);
          }
        },
        s);
    (void)t;
  }
  std::vector<std::byte> bytes;
};

GgufType scalar_type(const GgufScalar& s) {
  static constexpr GgufType kByIndex[] = {GgufType::UInt8,  GgufType::Int8,   GgufType::UInt16,  GgufType::Int16,
                                          GgufType::UInt32, GgufType::Int32,  GgufType::Float32, GgufType::Bool,
                                          GgufType::String, GgufType::UInt64, GgufType::Int64,   GgufType::Float64};
  return kByIndex[s.index()];
}

}  // namespace

std::vector<std::byte> serialize_gguf_header(const GgufHeader& h) {
  Buffer b;
  b.put<uint32_t>(kGgufMagic);
  b.put<uint32_t>(h.version);
  b.put<uint64_t>(h.tensors.size());
  b.put<uint64_t>(h.kvs.size());
  for (const auto& kv : h.kvs) {
    b.put_string(kv.key);
    b.put<int32_t>(static_cast<int32_t>(kv.value.type()));
    if (kv.value.is_array()) {
      const auto& a = kv.value.array();
      b.put<int32_t>(static_cast<int32_t>(a.element_type()));
      b.put<uint64_t>(a.size());
      if (a.element_type() == GgufType::String)
        for (size_t i = 0; i < a.size(); ++i) b.put_string(a.string_at(i));
      else
        b.put_bytes(a.packed_bytes());
    } else {
      check(scalar_type(kv.value.scalar()) == kv.value.type(), ErrorCode::InvalidArgument,
            "value of '" + kv.key + "' does not match its declared type");
      b.put_scalar(kv.value.type(), kv.value.scalar());
    }
  }
  for (const auto& t : h.tensors) {
    b.put_string(t.name);
    const auto ne = t.shape.ggml_ne();
    const std::vector<int64_t> dims = ne.empty() ? std::vector<int64_t>{1} : ne;
    b.put<uint32_t>(static_cast<uint32_t>(dims.size()));
    for (int64_t d : dims) b.put<int64_t>(d);
    b.put<int32_t>(static_cast<int32_t>(t.type));
    b.put<uint64_t>(t.offset);
  }
  const size_t a = h.alignment;
  b.bytes.resize((b.bytes.size() + a - 1) / a * a, std::byte{0});
  return std::move(b.bytes);
}

void layout_gguf_tensors(GgufHeader& h) {
  uint64_t off = 0;
  for (auto& t : h.tensors) {
    t.offset = off;
    off += (t.nbytes() + h.alignment - 1) / h.alignment * h.alignment;
  }
}

GgufWriter::GgufWriter(std::filesystem::path path, std::vector<GgufKv> kvs,
                       const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& tensors, uint32_t alignment,
                       std::optional<GgufResume> resume) {
  check(alignment != 0 && (alignment & (alignment - 1)) == 0, ErrorCode::InvalidArgument,
        "alignment must be a power of two");
  header_.kvs = std::move(kvs);
  header_.alignment = alignment;
  if (const GgufValue* a = header_.find("general.alignment")) header_.alignment = static_cast<uint32_t>(a->as_uint());
  for (auto& [name, ts] : tensors) {
    check(name.size() < 64, ErrorCode::InvalidArgument, "tensor name '" + name + "' is 64 bytes or longer");
    check(header_.find_tensor(name) == nullptr, ErrorCode::InvalidArgument, "duplicate tensor name '" + name + "'");
    row_bytes(ts.first, ts.second.row_length());  // validates block divisibility
    header_.tensors.push_back({name, ts.first, ts.second, 0});
  }
  layout_gguf_tensors(header_);
  const auto head = serialize_gguf_header(header_);
  header_.data_offset = head.size();
  if (!resume) {
    out_ = std::make_unique<AtomicFile>(std::move(path));
    out_->write(head);
    return;
  }
  check(resume->tensors_done <= header_.tensors.size(), ErrorCode::CheckpointError,
        "checkpoint records more tensors than the output has");
  next_ = resume->tensors_done;
  uint64_t at = header_.data_offset;
  for (size_t i = 0; i < next_; ++i)
    at += (header_.tensors[i].nbytes() + header_.alignment - 1) / header_.alignment * header_.alignment;
  out_ = std::make_unique<AtomicFile>(std::move(path), resume->partial, next_ == 0 ? 0 : at,
                                      next_ == 0 ? std::nullopt : resume->crc32);
  if (next_ == 0)
    out_->write(head);
  else
    out_->pwrite(head.data(), head.size(), 0);  // identical bytes; rewritten in case the tail was torn
}

void GgufWriter::sync() { out_->sync(); }
uint64_t GgufWriter::bytes_written() const noexcept { return out_->size(); }
uint32_t GgufWriter::crc32() const noexcept { return out_->crc32(); }

GgufWriter::~GgufWriter() = default;

void GgufWriter::write_tensor(std::span<const std::byte> data) {
  check(part_written_ == 0, ErrorCode::InvalidArgument, "write_tensor() after a partial write");
  while (next_ < header_.tensors.size() && header_.tensors[next_].nbytes() == 0 && !data.empty()) ++next_;
  check(next_ < header_.tensors.size(), ErrorCode::InvalidArgument, "more tensors written than declared");
  const auto& t = header_.tensors[next_];
  check(data.size() == t.nbytes(), ErrorCode::InvalidArgument,
        "tensor '" + t.name + "' data is " + std::to_string(data.size()) + " bytes, expected " +
            std::to_string(t.nbytes()));
  write_tensor_part(data);
}

void GgufWriter::write_tensor_part(std::span<const std::byte> data) {
  while (part_written_ == 0 && next_ < header_.tensors.size() && header_.tensors[next_].nbytes() == 0) ++next_;
  check(next_ < header_.tensors.size(), ErrorCode::InvalidArgument, "more tensors written than declared");
  const auto& t = header_.tensors[next_];
  const uint64_t nb = t.nbytes();
  check(data.size() <= nb - part_written_, ErrorCode::InvalidArgument, "tensor '" + t.name + "' data exceeds its size");
  out_->write(data);
  part_written_ += data.size();
  if (part_written_ == nb) {
    const uint64_t a = header_.alignment;
    out_->write_zeros(static_cast<size_t>((a - nb % a) % a));
    part_written_ = 0;
    ++next_;
  }
}

void GgufWriter::finish() {
  // A zero-byte tensor is complete without any write.
  while (next_ < header_.tensors.size() && header_.tensors[next_].nbytes() == 0 && part_written_ == 0) ++next_;
  check(next_ == header_.tensors.size(), ErrorCode::InvalidArgument,
        "only " + std::to_string(next_) + " of " + std::to_string(header_.tensors.size()) + " tensors were written");
  out_->commit();
}

}  // namespace libquant::io
