#include "libquant/io/gguf_value.hpp"

#include <cstring>
#include <limits>
#include <sstream>

#include "libquant/core/error.hpp"

namespace libquant::io {

const char* gguf_type_name(GgufType t) noexcept {
  switch (t) {
    case GgufType::UInt8:
      return "u8";
    case GgufType::Int8:
      return "i8";
    case GgufType::UInt16:
      return "u16";
    case GgufType::Int16:
      return "i16";
    case GgufType::UInt32:
      return "u32";
    case GgufType::Int32:
      return "i32";
    case GgufType::Float32:
      return "f32";
    case GgufType::Bool:
      return "bool";
    case GgufType::String:
      return "str";
    case GgufType::Array:
      return "arr";
    case GgufType::UInt64:
      return "u64";
    case GgufType::Int64:
      return "i64";
    case GgufType::Float64:
      return "f64";
  }
  return "?";
}

size_t gguf_scalar_size(GgufType t) noexcept {
  switch (t) {
    case GgufType::UInt8:
    case GgufType::Int8:
    case GgufType::Bool:
      return 1;
    case GgufType::UInt16:
    case GgufType::Int16:
      return 2;
    case GgufType::UInt32:
    case GgufType::Int32:
    case GgufType::Float32:
      return 4;
    case GgufType::UInt64:
    case GgufType::Int64:
    case GgufType::Float64:
      return 8;
    default:
      return 0;
  }
}

namespace {
GgufType type_of(const GgufScalar& s) {
  static constexpr GgufType kByIndex[] = {GgufType::UInt8,  GgufType::Int8,   GgufType::UInt16,  GgufType::Int16,
                                          GgufType::UInt32, GgufType::Int32,  GgufType::Float32, GgufType::Bool,
                                          GgufType::String, GgufType::UInt64, GgufType::Int64,   GgufType::Float64};
  return kByIndex[s.index()];
}

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

GgufArray::GgufArray(GgufType element_type, const std::vector<GgufScalar>& items) : type_(element_type) {
  for (const auto& item : items) {
    check(type_of(item) == element_type, ErrorCode::InvalidArgument,
          std::string("GGUF array of ") + gguf_type_name(element_type) + " holds a " + gguf_type_name(type_of(item)));
    if (const auto* str = std::get_if<std::string>(&item)) {
      append_string(*str);
    } else {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (!std::is_same_v<T, std::string>) append_packed(std::as_bytes(std::span<const T>(&x, 1)), 1);
          },
          item);
    }
  }
}

void GgufArray::append_packed(std::span<const std::byte> elements, size_t count) {
  bytes_.insert(bytes_.end(), elements.begin(), elements.end());
  count_ += count;
}

void GgufArray::append_string(std::string_view s) {
  const auto* b = reinterpret_cast<const std::byte*>(s.data());
  bytes_.insert(bytes_.end(), b, b + s.size());
  ends_.push_back(bytes_.size());
  ++count_;
}

void GgufArray::require_index(size_t i) const {
  check(i < count_, ErrorCode::ValidationFailed,
        "GGUF array index " + std::to_string(i) + " is out of range (" + std::to_string(count_) + " items)");
}

std::string_view GgufArray::string_at(size_t i) const {
  check(type_ == GgufType::String, ErrorCode::ValidationFailed,
        std::string("GGUF array holds ") + gguf_type_name(type_) + " values, not strings");
  require_index(i);
  const uint64_t b = i ? ends_[i - 1] : 0;
  return {reinterpret_cast<const char*>(bytes_.data()) + b, static_cast<size_t>(ends_[i] - b)};
}

GgufScalar GgufArray::at(size_t i) const {
  require_index(i);
  if (type_ == GgufType::String) return std::string(string_at(i));
  const std::byte* p = bytes_.data() + i * gguf_scalar_size(type_);
  switch (type_) {
    case GgufType::UInt8:
      return load<uint8_t>(p);
    case GgufType::Int8:
      return load<int8_t>(p);
    case GgufType::UInt16:
      return load<uint16_t>(p);
    case GgufType::Int16:
      return load<int16_t>(p);
    case GgufType::UInt32:
      return load<uint32_t>(p);
    case GgufType::Int32:
      return load<int32_t>(p);
    case GgufType::Float32:
      return load<float>(p);
    case GgufType::Bool:
      return load<uint8_t>(p) != 0;
    case GgufType::UInt64:
      return load<uint64_t>(p);
    case GgufType::Int64:
      return load<int64_t>(p);
    case GgufType::Float64:
      return load<double>(p);
    default:
      break;
  }
  throw Error(ErrorCode::ValidationFailed, "GGUF array has no element type");
}

double GgufArray::number_at(size_t i) const {
  const GgufScalar v = at(i);
  return std::visit(
      [](const auto& x) -> double {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>)
          throw Error(ErrorCode::ValidationFailed, "GGUF array holds non-numeric values");
        else if constexpr (std::is_same_v<T, bool>)
          return x ? 1.0 : 0.0;  // per-layer flags (sliding_window_pattern, recurrent_layers)
        else
          return static_cast<double>(x);
      },
      v);
}

int64_t GgufArray::integer_at(size_t i) const {
  const GgufScalar v = at(i);
  return std::visit(
      [](const auto& x) -> int64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> || std::is_floating_point_v<T>) {
          throw Error(ErrorCode::ValidationFailed, "GGUF array holds non-integer values");
        } else {
          if constexpr (std::is_same_v<T, uint64_t>)
            check(x <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), ErrorCode::ValidationFailed,
                  "GGUF integer out of range");
          return static_cast<int64_t>(x);
        }
      },
      v);
}

GgufValue GgufValue::array(GgufType element_type, const std::vector<GgufScalar>& items) {
  return array(GgufArray(element_type, items));
}

GgufValue GgufValue::array(GgufArray a) {
  GgufValue v;
  v.type_ = GgufType::Array;
  v.value_ = std::move(a);
  return v;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
  GgufArray a;
  a.type_ = GgufType::String;
  for (const auto& s : items) a.append_string(s);
  return array(std::move(a));
}

GgufValue GgufValue::f32_array(const std::vector<float>& items) {
  GgufArray a;
  a.type_ = GgufType::Float32;
  a.append_packed(std::as_bytes(std::span<const float>(items)), items.size());
  return array(std::move(a));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& items) {
  GgufArray a;
  a.type_ = GgufType::Int32;
  a.append_packed(std::as_bytes(std::span<const int32_t>(items)), items.size());
  return array(std::move(a));
}

const GgufScalar& GgufValue::scalar() const {
  if (is_array()) throw Error(ErrorCode::ValidationFailed, "GGUF value is an array, not a scalar");
  return std::get<GgufScalar>(value_);
}

const GgufArray& GgufValue::array() const {
  if (!is_array()) throw Error(ErrorCode::ValidationFailed, "GGUF value is a scalar, not an array");
  return std::get<GgufArray>(value_);
}

int64_t GgufValue::as_int() const {
  return std::visit(
      [](const auto& x) -> int64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, float> || std::is_same_v<T, double> ||
                      std::is_same_v<T, bool>) {
          throw Error(ErrorCode::ValidationFailed, "GGUF value is not an integer");
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw Error(ErrorCode::ValidationFailed, "GGUF integer out of range");
          return static_cast<int64_t>(x);
        } else {
          return static_cast<int64_t>(x);
        }
      },
      scalar());
}

uint64_t GgufValue::as_uint() const {
  if (std::holds_alternative<uint64_t>(scalar())) return std::get<uint64_t>(scalar());
  const int64_t v = as_int();
  if (v < 0) throw Error(ErrorCode::ValidationFailed, "GGUF integer is negative");
  return static_cast<uint64_t>(v);
}

double GgufValue::as_double() const {
  if (const auto* f = std::get_if<float>(&scalar())) return *f;
  if (const auto* d = std::get_if<double>(&scalar())) return *d;
  return static_cast<double>(as_int());
}

bool GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&scalar())) return *b;
  throw Error(ErrorCode::ValidationFailed, "GGUF value is not a bool");
}

const std::string& GgufValue::as_string() const {
  if (const auto* s = std::get_if<std::string>(&scalar())) return *s;
  throw Error(ErrorCode::ValidationFailed, "GGUF value is not a string");
}

namespace {
std::string scalar_to_string(const GgufScalar& s) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x.size() > 60 ? "\"" + x.substr(0, 57) + "...\"" : "\"" + x + "\"";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_floating_point_v<T>) {
          std::ostringstream os;
          os << x;
          return os.str();
        } else {
          return std::to_string(static_cast<long long>(x));
        }
      },
      s);
}
}  // namespace

std::string GgufValue::to_display_string(size_t max_items) const {
  if (!is_array()) return scalar_to_string(scalar());
  const auto& a = array();
  if (a.size() > max_items) return "[" + std::to_string(a.size()) + " " + gguf_type_name(a.element_type()) + " values]";
  std::string s = "[";
  for (size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + scalar_to_string(a.at(i));
  return s + "]";
}

}  // namespace libquant::io
