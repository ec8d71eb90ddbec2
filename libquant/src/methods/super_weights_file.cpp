// Reader of the super-weight JSON written by save_super_weights
// (docs/formats/super-weights.md): strict about what it uses, tolerant of
// fields it does not need.
#include <simdjson.h>

#include <fstream>
#include <sstream>

#include "libquant/core/read_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/methods/super_weights.hpp"

namespace libquant::methods {

namespace {
[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::ImatrixInvalid, origin + ": " + what,
              "Re-create it with `analyze` and `identify_super_weights`");
}

int64_t get_int(simdjson::dom::object o, const char* key, const std::string& origin, const std::string& where) {
  int64_t v = 0;
  if (o[key].get_int64().get(v)) bad(origin, where + ": \"" + key + "\" must be an integer");
  return v;
}

double get_number(simdjson::dom::object o, const char* key, double fallback) {
  double v = 0;
  return o[key].get_double().get(v) ? fallback : v;
}
}  // namespace

SuperWeightsFile parse_super_weights(std::string_view json, const std::string& origin) {
  simdjson::dom::parser parser;
  simdjson::padded_string text(json.data(), json.size());
  simdjson::dom::element root;
  simdjson::dom::object obj;
  if (parser.parse(text).get(root) || root.get_object().get(obj)) bad(origin, "not a JSON object");
  std::string_view s;
  if (obj["format"].get_string().get(s) || s != "libquant.super_weights")
    bad(origin, "\"format\" is not \"libquant.super_weights\"");
  int64_t version = 0;
  if (obj["version"].get_int64().get(version) || version != 1)
    bad(origin, "unsupported \"version\" (this build reads 1)");
  SuperWeightsFile f;
  if (!obj["model"].get_string().get(s)) f.model = std::string(s);
  f.mask.coverage = get_number(obj, "coverage", 0.0);

  simdjson::dom::array arr;
  if (obj["super_weights"].get_array().get(arr)) bad(origin, "\"super_weights\" must be an array");
  size_t i = 0;
  for (auto e : arr) {
    const std::string where = "super weight " + std::to_string(i++);
    simdjson::dom::object o;
    if (e.get_object().get(o)) bad(origin, where + " is not an object");
    SuperWeight w;
    if (o["tensor"].get_string().get(s) || s.empty()) bad(origin, where + ": \"tensor\" must be a name");
    w.tensor = std::string(s);
    w.layer = static_cast<int>(get_int(o, "layer", origin, where));
    w.row = get_int(o, "row", origin, where);
    w.col = get_int(o, "col", origin, where);
    if (w.row < 0 || w.col < 0) bad(origin, where + ": negative coordinates");
    w.value = static_cast<float>(get_number(o, "value", 0.0));
    w.activation = static_cast<float>(get_number(o, "activation", 0.0));
    w.input_activation = static_cast<float>(get_number(o, "input_activation", 0.0));
    w.share = static_cast<float>(get_number(o, "share", 0.0));
    if (!o["kind"].get_string().get(s)) w.kind = std::string(s);
    f.found.push_back(std::move(w));
  }

  simdjson::dom::object masks;
  if (!obj["masks"].get_object().get(masks)) {
    for (auto m : masks) {
      const std::string name(m.key);
      simdjson::dom::object mo;
      simdjson::dom::array shape, idx;
      int64_t rows = 0, cols = 0;
      if (m.value.get_object().get(mo) || mo["shape"].get_array().get(shape) || shape.size() != 2 ||
          shape.at(0).get_int64().get(rows) || shape.at(1).get_int64().get(cols) || rows <= 0 || cols <= 0 ||
          mo["indices"].get_array().get(idx))
        bad(origin, "mask of '" + name + "' needs \"shape\": [rows, cols] and \"indices\"");
      auto& list = f.mask.indices[name];
      for (auto v : idx) {
        int64_t k = 0;
        if (v.get_int64().get(k) || k < 0 || k >= rows * cols || (!list.empty() && k <= list.back()))
          bad(origin, "mask of '" + name + "': indices must be ascending and inside the shape");
        list.push_back(k);
      }
      f.mask.shapes[name] = {rows, cols};
    }
  }
  return f;
}

SuperWeightsFile load_super_weights(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ErrorCode::ImatrixInvalid, "super-weight file '" + path.string() + "' not found",
                "Create it with `analyze` and `identify_super_weights`, and pass it as `super_weights`");
  return parse_super_weights(read_whole_file(path, ErrorCode::ImatrixInvalid, "super-weight file", 256u << 20),
                             "'" + path.string() + "'");
}

}  // namespace libquant::methods
