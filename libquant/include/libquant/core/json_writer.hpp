#pragma once
// A small streaming JSON writer for results and headers (simdjson only parses).
// Keys are emitted in call order; numbers use the shortest round-trip form.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API JsonWriter {
 public:
  explicit JsonWriter(int indent = 0) : indent_(indent) {}
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(double d);
  JsonWriter& value(float f) { return value(static_cast<double>(f)); }
  JsonWriter& value(int64_t i);
  JsonWriter& value(uint64_t u);
  JsonWriter& value(int i) { return value(static_cast<int64_t>(i)); }
  JsonWriter& value(unsigned u) { return value(static_cast<uint64_t>(u)); }
  JsonWriter& null();
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  const std::string& str() const noexcept { return out_; }

  static std::string escape(std::string_view s);

 private:
  void before_value();
  void newline();
  int indent_;
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace libquant
