#include <cstring>
#include <limits>
#include <set>

#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::io {

namespace {

constexpr size_t kMaxNameLength = 64;  // GGML_MAX_NAME: names must be shorter
constexpr uint32_t kMaxDims = 4;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid GGUF file: " + what,
              "The file is truncated or corrupt; re-create or re-download it");
}

// Bounds-checked little-endian cursor over the mapped file.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> d) : d_(d) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return d_.size() - pos_; }
  template <typename T>
  T read(const char* what) {
    if (remaining() < sizeof(T)) invalid(std::string("unexpected end of file reading ") + what);
    T v;
    std::memcpy(&v, d_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::span<const std::byte> read_bytes(uint64_t n, const char* what) {
    if (n > remaining()) invalid(std::string(what) + " run past the end of the file");
    const auto out = d_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::string read_string(const char* what) {
    const auto n = read<uint64_t>(what);
    if (n > remaining()) invalid(std::string(what) + " length " + std::to_string(n) + " runs past the end of the file");
    std::string s(reinterpret_cast<const char*>(d_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const std::byte> d_;
  size_t pos_ = 0;
};

// The fewest bytes a value of type t can take in the file: a number its size,
// a string its 8-byte length, an array its 4-byte type and 8-byte count.
size_t min_encoded_size(GgufType t) {
  if (t == GgufType::String) return 8;
  if (t == GgufType::Array) return 12;
  const size_t n = gguf_scalar_size(t);
  return n ? n : 1;
}

bool valid_value_type(int32_t t) { return t >= 0 && t <= 12; }

GgufScalar read_scalar(Cursor& c, GgufType t, const std::string& key) {
  switch (t) {
    case GgufType::UInt8:
      return c.read<uint8_t>("u8 value");
    case GgufType::Int8:
      return c.read<int8_t>("i8 value");
    case GgufType::UInt16:
      return c.read<uint16_t>("u16 value");
    case GgufType::Int16:
      return c.read<int16_t>("i16 value");
    case GgufType::UInt32:
      return c.read<uint32_t>("u32 value");
    case GgufType::Int32:
      return c.read<int32_t>("i32 value");
    case GgufType::Float32:
      return c.read<float>("f32 value");
    case GgufType::Bool: {
      const auto b = c.read<uint8_t>("bool value");
      if (b > 1) invalid("key '" + key + "' has a bool value that is neither 0 nor 1");
      return b == 1;
    }
    case GgufType::String:
      return c.read_string("string value");
    case GgufType::UInt64:
      return c.read<uint64_t>("u64 value");
    case GgufType::Int64:
      return c.read<int64_t>("i64 value");
    case GgufType::Float64:
      return c.read<double>("f64 value");
    case GgufType::Array:
      break;
  }
  invalid("key '" + key + "' has a nested array");
}

// Arrays are kept packed (see GgufArray): memory stays bounded by the file.
GgufArray read_array(Cursor& c, GgufType et, uint64_t n, const std::string& key) {
  GgufArray a(et, {});
  if (et == GgufType::String) {
    for (uint64_t j = 0; j < n; ++j) a.append_string(c.read_string("string array item"));
    return a;
  }
  const size_t size = gguf_scalar_size(et);
  const auto bytes = c.read_bytes(n * size, "array items");  // n * size <= remaining: checked by the caller
  if (et == GgufType::Bool)
    for (std::byte b : bytes)
      if (static_cast<uint8_t>(b) > 1) invalid("key '" + key + "' has a bool value that is neither 0 nor 1");
  a.append_packed(bytes, n);
  return a;
}

}  // namespace

uint64_t GgufTensorInfo::nbytes() const {
  const uint64_t rb = row_bytes(type, shape.row_length()), rows = shape.rows();
  if (rows != 0 && rb > std::numeric_limits<uint64_t>::max() / rows)
    invalid("tensor '" + name + "' has a byte size that overflows 64 bits");
  return rb * rows;
}

const GgufValue* GgufHeader::find(std::string_view key) const noexcept {
  for (const auto& kv : kvs)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

const GgufTensorInfo* GgufHeader::find_tensor(std::string_view name) const noexcept {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

GgufHeader parse_gguf(std::span<const std::byte> file) {
  Cursor c(file);
  GgufHeader h;
  const auto magic = c.read<uint32_t>("magic");
  if (magic != kGgufMagic) invalid("wrong magic (not a GGUF file)");
  h.version = c.read<uint32_t>("version");
  if (h.version == 1) invalid("GGUF version 1 is not supported (convert it with a newer llama.cpp)");
  if (h.version != 2 && h.version != 3) invalid("unsupported GGUF version " + std::to_string(h.version));
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_kv = c.read<uint64_t>("metadata count");
  // Every KV needs >= 8+4+1 bytes and every tensor info >= 8+4+8+4+8.
  if (n_kv > c.remaining() / 13) invalid("metadata count " + std::to_string(n_kv) + " is larger than the file allows");
  if (n_tensors > c.remaining() / 32)
    invalid("tensor count " + std::to_string(n_tensors) + " is larger than the file allows");

  std::set<std::string, std::less<>> keys;
  h.kvs.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string("key");
    if (!keys.insert(key).second) invalid("duplicate key '" + key + "'");
    const auto t = c.read<int32_t>("value type");
    if (!valid_value_type(t)) invalid("key '" + key + "' has unknown value type " + std::to_string(t));
    GgufValue value;
    if (static_cast<GgufType>(t) == GgufType::Array) {
      const auto et = c.read<int32_t>("array type");
      if (!valid_value_type(et)) invalid("key '" + key + "' has unknown array element type " + std::to_string(et));
      if (static_cast<GgufType>(et) == GgufType::Array) invalid("key '" + key + "' has a nested array");
      const auto n = c.read<uint64_t>("array length");
      if (n > c.remaining() / min_encoded_size(static_cast<GgufType>(et)))
        invalid("key '" + key + "' has array length " + std::to_string(n) + " larger than the file");
      value = GgufValue::array(read_array(c, static_cast<GgufType>(et), n, key));
    } else {
      GgufScalar s = read_scalar(c, static_cast<GgufType>(t), key);
      switch (static_cast<GgufType>(t)) {
        case GgufType::UInt8:
          value = GgufValue::u8(std::get<uint8_t>(s));
          break;
        case GgufType::Int8:
          value = GgufValue::i8(std::get<int8_t>(s));
          break;
        case GgufType::UInt16:
          value = GgufValue::u16(std::get<uint16_t>(s));
          break;
        case GgufType::Int16:
          value = GgufValue::i16(std::get<int16_t>(s));
          break;
        case GgufType::UInt32:
          value = GgufValue::u32(std::get<uint32_t>(s));
          break;
        case GgufType::Int32:
          value = GgufValue::i32(std::get<int32_t>(s));
          break;
        case GgufType::Float32:
          value = GgufValue::f32(std::get<float>(s));
          break;
        case GgufType::Bool:
          value = GgufValue::boolean(std::get<bool>(s));
          break;
        case GgufType::String:
          value = GgufValue::str(std::move(std::get<std::string>(s)));
          break;
        case GgufType::UInt64:
          value = GgufValue::u64(std::get<uint64_t>(s));
          break;
        case GgufType::Int64:
          value = GgufValue::i64(std::get<int64_t>(s));
          break;
        case GgufType::Float64:
          value = GgufValue::f64(std::get<double>(s));
          break;
        case GgufType::Array:
          break;
      }
    }
    if (key == "general.alignment") {
      if (value.type() != GgufType::UInt32) invalid("general.alignment must be a u32");
      const uint32_t a = std::get<uint32_t>(value.scalar());
      if (a == 0 || (a & (a - 1)) != 0) invalid("general.alignment " + std::to_string(a) + " is not a power of two");
      h.alignment = a;
    }
    h.kvs.push_back({std::move(key), std::move(value)});
  }

  std::set<std::string, std::less<>> names;
  h.tensors.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string("tensor name");
    if (t.name.size() >= kMaxNameLength) invalid("tensor name '" + t.name.substr(0, 64) + "...' is 64 bytes or longer");
    if (!names.insert(t.name).second) invalid("duplicate tensor name '" + t.name + "'");
    const auto n_dims = c.read<uint32_t>("dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      invalid("tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions");
    std::vector<int64_t> ne(n_dims);
    for (auto& d : ne) {
      d = c.read<int64_t>("dimension");
      if (d < 0) invalid("tensor '" + t.name + "' has a negative dimension");
    }
    const auto type_id = c.read<int32_t>("tensor type");
    if (type_id < 0 || !is_valid_ggml_type_id(static_cast<uint32_t>(type_id)))
      invalid("tensor '" + t.name + "' has unknown type " + std::to_string(type_id));
    t.type = static_cast<DType>(type_id);
    t.shape = Shape::from_ggml_ne(ne);
    t.offset = c.read<uint64_t>("tensor offset");
    // Element count and byte size must be representable.
    uint64_t numel = 1;
    for (int64_t d : ne) {
      if (d != 0 && numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / static_cast<uint64_t>(d))
        invalid("tensor '" + t.name + "' has an element count that overflows");
      numel *= static_cast<uint64_t>(d);
    }
    const auto& tr = traits(t.type);
    if (ne[0] % tr.block_size != 0)
      invalid("tensor '" + t.name + "' row of " + std::to_string(ne[0]) + " is not a multiple of the " +
              std::string(tr.name) + " block size " + std::to_string(tr.block_size));
    h.tensors.push_back(std::move(t));
  }

  const uint64_t a = h.alignment;
  h.data_offset = (c.pos() + a - 1) / a * a;
  if (h.data_offset > file.size() && !h.tensors.empty()) invalid("file ends before the tensor data section");
  // Every comparison below is written so that nothing can wrap: sizes are
  // bounded by the file before they are added.
  const uint64_t data_size = h.data_offset <= file.size() ? file.size() - h.data_offset : 0;
  uint64_t expected = 0;
  for (const auto& t : h.tensors) {
    if (t.offset != expected)
      invalid("tensor '" + t.name + "' has offset " + std::to_string(t.offset) + ", expected " +
              std::to_string(expected));
    const uint64_t nb = t.nbytes();
    if (nb > file.size()) invalid("tensor '" + t.name + "' is larger than the file");
    if (t.offset > data_size || nb > data_size - t.offset)
      invalid("tensor '" + t.name + "' data runs past the end of the file (truncated?)");
    expected = t.offset + (nb + a - 1) / a * a;
  }
  return h;
}

GgufFile::GgufFile(const std::filesystem::path& path) : file_(path) {
  try {
    header_ = parse_gguf(file_.bytes());
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + " ('" + path.string() + "')", e.suggestion());
  }
}

TensorView GgufFile::view(const GgufTensorInfo& t) const {
  return {t.type, t.shape, file_.bytes().subspan(header_.data_offset + t.offset, t.nbytes())};
}

void GgufFile::read(const GgufTensorInfo& t, uint64_t offset, std::span<std::byte> dst) const {
  check(offset <= t.nbytes() && dst.size() <= t.nbytes() - offset, ErrorCode::InvalidArgument,
        "read outside tensor '" + t.name + "'");
  file_.read_into(header_.data_offset + t.offset + offset, dst);
}

void GgufFile::release(const GgufTensorInfo& t) const noexcept {
  file_.release(header_.data_offset + t.offset, t.nbytes());
}

}  // namespace libquant::io
