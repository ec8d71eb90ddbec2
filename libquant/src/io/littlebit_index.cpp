// The JSON index of a .littlebit file: written with JsonWriter, parsed with
// simdjson and validated field by field (the file may come from anywhere).
#include <simdjson.h>

#include <cmath>

#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/io/littlebit_file.hpp"

namespace libquant::io {
namespace {

const char* kind_name(LittleBitTensorKind k) {
  switch (k) {
    case LittleBitTensorKind::Factors:
      return "factors";
    case LittleBitTensorKind::Dense:
      return "dense";
    case LittleBitTensorKind::Metadata:
      return "metadata";
  }
  return "?";
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "littlebit index: " + what, "The file is damaged; compress the model again");
}

template <typename T>
T need(simdjson::simdjson_result<T> r, const std::string& what) {
  T v;
  if (std::move(r).get(v)) bad("missing or mistyped '" + what + "'");
  return v;
}

double number(simdjson::dom::object o, const char* key, double def) {
  simdjson::dom::element e;
  if (o[key].get(e)) return def;
  double d = 0;
  if (e.get_double().get(d)) {
    int64_t i = 0;
    uint64_t u = 0;
    if (!e.get_int64().get(i)) return static_cast<double>(i);
    if (!e.get_uint64().get(u)) return static_cast<double>(u);
    bad(std::string("'") + key + "' is not a number");
  }
  return d;
}

std::string text(simdjson::dom::object o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e)) return {};
  std::string_view s;
  if (e.get_string().get(s)) bad(std::string("'") + key + "' is not a string");
  return std::string(s);
}

}  // namespace

const LittleBitTensorInfo* LittleBitFileInfo::find(std::string_view name) const noexcept {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string littlebit_index_json(const LittleBitFileInfo& info) {
  JsonWriter w;
  w.begin_object()
      .field("format", "littlebit")
      .field("format_version", static_cast<uint64_t>(info.version))
      .field("source_model", info.source_model)
      .field("architecture", info.architecture)
      .field("target_bpw", info.target_bpw)
      .field("residual", info.residual)
      .field("refinement", info.refinement)
      .field("created_by", info.created_by)
      .field("original_size_bytes", info.original_size_bytes);
  w.key("tensors").begin_array();
  for (const auto& t : info.tensors) {
    w.begin_object().field("name", t.name).field("kind", kind_name(t.kind));
    w.key("shape").begin_array();
    for (size_t d = 0; d < t.shape.rank(); ++d) w.value(static_cast<uint64_t>(t.shape[d]));
    w.end_array();
    if (t.kind == LittleBitTensorKind::Dense) w.field("dtype", std::string(traits(t.dtype).name));
    if (t.kind == LittleBitTensorKind::Factors) {
      w.field("rank", t.rank).field("paths", t.paths);
      if (t.weight_error >= 0) w.field("weight_error", t.weight_error);
      if (t.output_error >= 0) w.field("output_error", t.output_error);
    }
    if (t.kind != LittleBitTensorKind::Metadata) w.field("original_bits", t.original_bits);
    w.field("offset", t.offset).field("size", t.size).field("crc32", static_cast<uint64_t>(t.crc32));
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

LittleBitFileInfo parse_littlebit_index(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) bad("not valid JSON");
  const auto o = need(root.get_object(), "index object");
  if (text(o, "format") != "littlebit") bad("format is not 'littlebit'");
  LittleBitFileInfo info;
  const double version = number(o, "format_version", -1);
  if (version != kLittleBitVersion)
    throw Error(ErrorCode::ValidationFailed,
                "littlebit format version " + std::to_string(version) + " is not supported",
                "This build reads version 1");
  info.source_model = text(o, "source_model");
  info.architecture = text(o, "architecture");
  info.target_bpw = number(o, "target_bpw", 0);
  bool residual = true;
  if (o["residual"].get(residual) == simdjson::SUCCESS) info.residual = residual;
  info.refinement = text(o, "refinement");
  info.created_by = text(o, "created_by");
  info.original_size_bytes = static_cast<uint64_t>(std::max(0.0, number(o, "original_size_bytes", 0)));
  const auto arr = need(o["tensors"].get_array(), "tensors");
  for (auto el : arr) {
    const auto t = need(el.get_object(), "tensor entry");
    LittleBitTensorInfo e;
    e.name = text(t, "name");
    if (e.name.empty() || e.name.size() > 512) bad("tensor with an empty or overlong name");
    const std::string kind = text(t, "kind");
    if (kind == "factors")
      e.kind = LittleBitTensorKind::Factors;
    else if (kind == "dense")
      e.kind = LittleBitTensorKind::Dense;
    else if (kind == "metadata")
      e.kind = LittleBitTensorKind::Metadata;
    else
      bad("tensor '" + e.name + "' has unknown kind '" + kind + "'");
    std::vector<int64_t> dims;
    for (auto d : need(t["shape"].get_array(), "shape")) {
      uint64_t v = 0;
      if (d.get_uint64().get(v) || v == 0 || v > (uint64_t{1} << 40)) bad("tensor '" + e.name + "' has a bad shape");
      dims.push_back(static_cast<int64_t>(v));
    }
    if (dims.size() > 4) bad("tensor '" + e.name + "' has more than 4 dimensions");
    e.shape = Shape(dims);
    if (e.shape.numel() > (uint64_t{1} << 40)) bad("tensor '" + e.name + "' is too large");
    if (e.kind == LittleBitTensorKind::Dense) {
      const std::string dt = text(t, "dtype");
      const auto d = ggml_type_from_name(dt);
      if (!d || (*d != DType::F16 && *d != DType::BF16 && *d != DType::F32))
        bad("tensor '" + e.name + "' has unsupported dtype '" + dt + "'");
      e.dtype = *d;
    }
    if (e.kind == LittleBitTensorKind::Factors) {
      if (e.shape.rank() != 2) bad("factorized tensor '" + e.name + "' is not 2-D");
      const double rank = number(t, "rank", 0), paths = number(t, "paths", 0);
      if (rank < 1 || rank > static_cast<double>(std::min(e.shape[0], e.shape[1])) || rank != std::floor(rank))
        bad("tensor '" + e.name + "' has a bad rank");
      if (paths != 1 && paths != 2) bad("tensor '" + e.name + "' must have 1 or 2 paths");
      e.rank = static_cast<int64_t>(rank);
      e.paths = static_cast<int>(paths);
      e.weight_error = number(t, "weight_error", -1);
      e.output_error = number(t, "output_error", -1);
    }
    e.original_bits = number(t, "original_bits", 16);
    const double off = number(t, "offset", -1), size = number(t, "size", -1), crc = number(t, "crc32", -1);
    if (off < 0 || size < 0 || crc < 0 || crc > 4294967295.0)
      bad("tensor '" + e.name + "' has no valid offset/size/crc32");
    e.offset = static_cast<uint64_t>(off);
    e.size = static_cast<uint64_t>(size);
    e.crc32 = static_cast<uint32_t>(crc);
    if (info.find(e.name)) bad("duplicate tensor '" + e.name + "'");
    info.tensors.push_back(std::move(e));
  }
  return info;
}

}  // namespace libquant::io
