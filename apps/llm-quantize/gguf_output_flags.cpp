#include "gguf_output_flags.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "libquant/core/error.hpp"

namespace cli {
namespace {

using libquant::Error;
using libquant::ErrorCode;
using libquant::io::GgufValue;

constexpr size_t kMaxText = 127;  // llama.cpp keeps keys and strings in 128-byte buffers

template <typename T>
bool parse_whole(const std::string& s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

[[noreturn]] void bad_override(const std::string& spec, const std::string& why) {
  throw Error(ErrorCode::InvalidArgument, "--override-kv '" + spec + "': " + why,
              "Use KEY=TYPE:VALUE with TYPE int, float, bool or str, e.g. general.name=str:my-model");
}

GgufValue typed_value(const std::string& spec, const std::string& type, const std::string& text) {
  if (type == "int") {
    int64_t v = 0;
    if (!parse_whole(text, v)) bad_override(spec, "'" + text + "' is not an integer");
    const uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    if (magnitude > std::numeric_limits<uint32_t>::max()) bad_override(spec, "the value does not fit 32 bits");
    return GgufValue::u32(static_cast<uint32_t>(magnitude));
  }
  if (type == "float") {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(static_cast<float>(v)))
      bad_override(spec, "'" + text + "' is not a finite number");
    return GgufValue::f32(static_cast<float>(v));
  }
  if (type == "bool") {
    if (text != "true" && text != "false") bad_override(spec, "a bool is true or false");
    return GgufValue::boolean(text == "true");
  }
  if (type == "str") {
    if (text.size() > kMaxText) bad_override(spec, "strings are at most 127 bytes");
    return GgufValue::str(text);
  }
  bad_override(spec, "unknown type '" + type + "'");
}

}  // namespace

std::vector<int> parse_prune_layers(const std::string& list) {
  std::vector<int> layers;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string part = list.substr(start, comma - start);
    int id = -1;
    if (!parse_whole(part, id) || id < 0)
      throw Error(ErrorCode::InvalidArgument, "--prune-layers: '" + part + "' is not a layer number",
                  "Give comma-separated layer numbers counted from 0, e.g. --prune-layers 20,21");
    layers.push_back(id);
    start = comma + 1;
  }
  return layers;
}

std::vector<libquant::io::GgufKv> parse_metadata_overrides(const std::vector<std::string>& specs) {
  std::vector<libquant::io::GgufKv> out;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) bad_override(spec, "no KEY=");
    if (eq > kMaxText) bad_override(spec, "keys are at most 127 bytes");
    const auto colon = spec.find(':', eq + 1);
    if (colon == std::string::npos) bad_override(spec, "no TYPE: before the value");
    out.push_back({spec.substr(0, eq), typed_value(spec, spec.substr(eq + 1, colon - eq - 1), spec.substr(colon + 1))});
  }
  return out;
}

}  // namespace cli
