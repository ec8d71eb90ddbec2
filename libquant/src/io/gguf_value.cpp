#include "libquant/io/gguf_value.hpp"

#include <limits>
#include <sstream>

#include "libquant/core/error.hpp"

namespace libquant::io {

const char* gguf_type_name(GgufType t) noexcept {
  switch (t) {
    case GgufType::UInt8: return "u8";
    case GgufType::Int8: return "i8";
    case GgufType::UInt16: return "u16";
    case GgufType::Int16: return "i16";
    case GgufType::UInt32: return "u32";
    case GgufType::Int32: return "i32";
    case GgufType::Float32: return "f32";
    case GgufType::Bool: return "bool";
    case GgufType::String: return "str";
    case GgufType::Array: return "arr";
    case GgufType::UInt64: return "u64";
    case GgufType::Int64: return "i64";
    case GgufType::Float64: return "f64";
  }
  return "?";
}

GgufValue GgufValue::array(GgufType element_type, std::vector<GgufScalar> items) {
  GgufValue v;
  v.type_ = GgufType::Array;
  v.value_ = GgufArray{element_type, std::move(items)};
  return v;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
  std::vector<GgufScalar> v(items.begin(), items.end());
  return array(GgufType::String, std::move(v));
}

GgufValue GgufValue::f32_array(const std::vector<float>& items) {
  std::vector<GgufScalar> v(items.begin(), items.end());
  return array(GgufType::Float32, std::move(v));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& items) {
  std::vector<GgufScalar> v(items.begin(), items.end());
  return array(GgufType::Int32, std::move(v));
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
  if (a.items.size() > max_items)
    return "[" + std::to_string(a.items.size()) + " " + gguf_type_name(a.element_type) + " values]";
  std::string s = "[";
  for (size_t i = 0; i < a.items.size(); ++i) s += (i ? ", " : "") + scalar_to_string(a.items[i]);
  return s + "]";
}

}  // namespace libquant::io
