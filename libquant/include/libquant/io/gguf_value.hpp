#pragma once
// GGUF metadata values: every scalar type, strings and (non-nested) arrays.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libquant/export.hpp"

namespace libquant::io {

enum class GgufType : int32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

using GgufScalar = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                                uint64_t, int64_t, double>;

// A GGUF array, stored compactly: numbers as their packed little-endian bytes,
// strings as one character buffer with end offsets. A file's array never
// costs more memory than the file's bytes plus 8 per string, whatever it
// declares (a 40 M-element u8 array is 40 MB, not 40 M variants).
class LIBQUANT_API GgufArray {
 public:
  GgufArray() = default;
  // Throws Error(InvalidArgument) when an item's type differs from element_type.
  GgufArray(GgufType element_type, const std::vector<GgufScalar>& items);

  GgufType element_type() const noexcept { return type_; }
  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // Item i as a scalar of the element type (a copy; throws when out of range).
  GgufScalar at(size_t i) const;
  // Typed access; Error(ValidationFailed) when the array holds another type
  // (a file whose token list is made of integers is refused, not undefined).
  std::string_view string_at(size_t i) const;
  double number_at(size_t i) const;    // any numeric element type (bools as 0 / 1)
  int64_t integer_at(size_t i) const;  // integer element types, range-checked

  // Numeric and bool arrays: the elements as packed little-endian bytes.
  std::span<const std::byte> packed_bytes() const noexcept { return bytes_; }

  // For the reader: append items already checked against the file.
  void append_packed(std::span<const std::byte> elements, size_t count);  // numeric and bool
  void append_string(std::string_view s);
  void reserve_bytes(size_t n) { bytes_.reserve(n); }

  friend bool operator==(const GgufArray&, const GgufArray&) = default;

 private:
  void require_index(size_t i) const;
  GgufType type_ = GgufType::UInt8;
  size_t count_ = 0;
  std::vector<std::byte> bytes_;
  std::vector<uint64_t> ends_;  // strings only: end of item i in bytes_
  friend class GgufValue;
};

LIBQUANT_API size_t gguf_scalar_size(GgufType t) noexcept;  // bytes of a numeric/bool element, 0 for strings

class LIBQUANT_API GgufValue {
 public:
  GgufValue() = default;
  static GgufValue u8(uint8_t v) { return GgufValue(GgufType::UInt8, v); }
  static GgufValue i8(int8_t v) { return GgufValue(GgufType::Int8, v); }
  static GgufValue u16(uint16_t v) { return GgufValue(GgufType::UInt16, v); }
  static GgufValue i16(int16_t v) { return GgufValue(GgufType::Int16, v); }
  static GgufValue u32(uint32_t v) { return GgufValue(GgufType::UInt32, v); }
  static GgufValue i32(int32_t v) { return GgufValue(GgufType::Int32, v); }
  static GgufValue f32(float v) { return GgufValue(GgufType::Float32, v); }
  static GgufValue boolean(bool v) { return GgufValue(GgufType::Bool, v); }
  static GgufValue str(std::string v) { return GgufValue(GgufType::String, std::move(v)); }
  static GgufValue u64(uint64_t v) { return GgufValue(GgufType::UInt64, v); }
  static GgufValue i64(int64_t v) { return GgufValue(GgufType::Int64, v); }
  static GgufValue f64(double v) { return GgufValue(GgufType::Float64, v); }
  static GgufValue array(GgufType element_type, const std::vector<GgufScalar>& items);
  static GgufValue array(GgufArray a);
  static GgufValue string_array(const std::vector<std::string>& items);
  static GgufValue f32_array(const std::vector<float>& items);
  static GgufValue i32_array(const std::vector<int32_t>& items);

  GgufType type() const noexcept { return type_; }
  bool is_array() const noexcept { return type_ == GgufType::Array; }
  const GgufScalar& scalar() const;  // throws for arrays
  const GgufArray& array() const;    // throws for scalars

  // Conversions that accept any integer type (range-checked) / any float type.
  int64_t as_int() const;
  uint64_t as_uint() const;
  double as_double() const;
  bool as_bool() const;
  const std::string& as_string() const;
  // A short human-readable rendering ("[512 strings]" for big arrays).
  std::string to_display_string(size_t max_items = 8) const;

  friend bool operator==(const GgufValue&, const GgufValue&) = default;

 private:
  GgufValue(GgufType t, GgufScalar v) : type_(t), value_(std::move(v)) {}
  GgufType type_ = GgufType::UInt8;
  std::variant<GgufScalar, GgufArray> value_ = GgufScalar(uint8_t{0});
};

LIBQUANT_API const char* gguf_type_name(GgufType t) noexcept;

}  // namespace libquant::io
