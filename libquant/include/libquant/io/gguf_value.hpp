#pragma once
// GGUF metadata values: every scalar type, strings and (non-nested) arrays.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "libquant/export.hpp"

namespace libquant::io {

enum class GgufType : int32_t {
  UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6,
  Bool = 7, String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};

using GgufScalar = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                                std::string, uint64_t, int64_t, double>;

struct GgufArray {
  GgufType element_type = GgufType::UInt8;
  std::vector<GgufScalar> items;
  friend bool operator==(const GgufArray&, const GgufArray&) = default;
};

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
  static GgufValue array(GgufType element_type, std::vector<GgufScalar> items);
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
