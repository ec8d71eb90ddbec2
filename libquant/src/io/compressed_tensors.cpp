#include "libquant/io/compressed_tensors.hpp"

#include <simdjson.h>

#include <algorithm>

#include "libquant/core/error.hpp"
#include "libquant/core/pattern.hpp"
#include "libquant/core/json_writer.hpp"

namespace libquant::io {

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid quantization_config: " + what,
              "Check the checkpoint's config.json (compressed-tensors layout)");
}

std::string get_string(simdjson::dom::object o, const char* key, const std::string& def, bool required = false) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) {
    if (required) bad(std::string("missing '") + key + "'");
    return def;
  }
  std::string_view s;
  if (e.get_string().get(s)) bad(std::string("'") + key + "' is not a string");
  return std::string(s);
}

std::vector<std::string> get_strings(simdjson::dom::object o, const char* key) {
  std::vector<std::string> out;
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return out;
  simdjson::dom::array a;
  if (e.get_array().get(a)) bad(std::string("'") + key + "' is not a list");
  for (auto x : a) {
    std::string_view s;
    if (x.get_string().get(s)) bad(std::string("'") + key + "' holds a non-string");
    out.emplace_back(s);
  }
  return out;
}

std::optional<CtQuantArgs> get_args(simdjson::dom::object o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return std::nullopt;
  simdjson::dom::object a;
  if (e.get_object().get(a)) bad(std::string("'") + key + "' is not an object");
  CtQuantArgs q;
  int64_t bits;
  if (a["num_bits"].get_int64().get(bits) || bits < 1 || bits > 32) bad(std::string(key) + ".num_bits is not 1..32");
  q.num_bits = static_cast<int>(bits);
  q.type = get_string(a, "type", "int");
  q.strategy = get_string(a, "strategy", "tensor");
  bool b;
  if (!a["symmetric"].get_bool().get(b)) q.symmetric = b;
  // `dynamic` is true, false or "local".
  simdjson::dom::element d;
  if (!a["dynamic"].get(d) && !d.is_null()) {
    std::string_view s;
    if (!d.get_bool().get(b))
      q.dynamic = b;
    else if (!d.get_string().get(s))
      q.dynamic = true;
    else
      bad(std::string(key) + ".dynamic is neither a bool nor a string");
  }
  int64_t gs;
  if (!a["group_size"].get_int64().get(gs)) q.group_size = gs;
  std::string_view order;
  if (!a["actorder"].get_string().get(order)) q.actorder = std::string(order);
  return q;
}

void write_args(JsonWriter& w, const char* key, const std::optional<CtQuantArgs>& a) {
  w.key(key);
  if (!a) {
    w.null();
    return;
  }
  w.begin_object();
  if (a->actorder) w.field("actorder", *a->actorder);
  w.field("dynamic", a->dynamic).key("group_size");
  if (a->group_size)
    w.value(*a->group_size);
  else
    w.null();
  w.field("num_bits", a->num_bits).field("strategy", a->strategy).field("symmetric", a->symmetric);
  w.field("type", a->type).end_object();
}

void write_strings(JsonWriter& w, const char* key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}

// Keys in the order compressed-tensors' json.dump(sort_keys=True) gives.
void write_config(JsonWriter& w, const CompressedTensorsConfig& qc) {
  w.begin_object().key("config_groups").begin_object();
  for (size_t i = 0; i < qc.groups.size(); ++i) {
    const CtScheme& g = qc.groups[i];
    w.key("group_" + std::to_string(i)).begin_object().key("format");
    if (g.format)
      w.value(*g.format);
    else
      w.null();
    write_args(w, "input_activations", g.input_activations);
    w.key("output_activations").null();
    write_strings(w, "targets", g.targets);
    write_args(w, "weights", g.weights);
    w.end_object();
  }
  w.end_object();
  w.field("format", qc.format).key("global_compression_ratio").null();
  write_strings(w, "ignore", qc.ignore);
  w.key("kv_cache_scheme").null().key("moe_sparsity_config").null();
  w.field("quant_method", "compressed-tensors").field("quantization_status", qc.quantization_status);
  w.key("sparsity_config").begin_object().end_object();
  w.key("transform_config").begin_object().end_object();
  w.field("version", qc.version).end_object();
}

// Any JSON value, objects with their keys sorted (as Python's sort_keys).
void write_sorted(JsonWriter& w, simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      std::vector<std::pair<std::string_view, simdjson::dom::element>> kv;
      for (auto field : simdjson::dom::object(e)) kv.emplace_back(field.key, field.value);
      std::stable_sort(kv.begin(), kv.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      w.begin_object();
      for (const auto& [k, v] : kv) {
        w.key(k);
        write_sorted(w, v);
      }
      w.end_object();
      return;
    }
    case simdjson::dom::element_type::ARRAY:
      w.begin_array();
      for (auto x : simdjson::dom::array(e)) write_sorted(w, x);
      w.end_array();
      return;
    case simdjson::dom::element_type::STRING:
      w.value(std::string_view(e));
      return;
    case simdjson::dom::element_type::INT64:
      w.value(int64_t(e));
      return;
    case simdjson::dom::element_type::UINT64:
      w.value(uint64_t(e));
      return;
    case simdjson::dom::element_type::DOUBLE:
      w.value(double(e));
      return;
    case simdjson::dom::element_type::BOOL:
      w.value(bool(e));
      return;
    default:
      w.null();
      return;
  }
}

}  // namespace

CompressedTensorsConfig CompressedTensorsConfig::w8a8(bool dynamic_activations) {
  CompressedTensorsConfig qc;
  CtScheme g;
  g.weights = CtQuantArgs{8, "int", true, "channel", false, std::nullopt, std::nullopt};
  g.input_activations = CtQuantArgs{
      8, "int", true, dynamic_activations ? "token" : "tensor", dynamic_activations, std::nullopt, std::nullopt};
  qc.groups.push_back(g);
  qc.ignore = {"lm_head"};
  return qc;
}

CompressedTensorsConfig CompressedTensorsConfig::weight_only(int bits, int64_t group_size, bool symmetric,
                                                             std::optional<std::string> actorder) {
  CompressedTensorsConfig qc;
  qc.format = "pack-quantized";
  CtScheme g;
  g.weights = CtQuantArgs{bits,
                          "int",
                          symmetric,
                          group_size > 0 ? "group" : "channel",
                          false,
                          group_size > 0 ? std::optional<int64_t>(group_size) : std::nullopt,
                          std::move(actorder)};
  qc.groups.push_back(g);
  qc.ignore = {"lm_head"};
  return qc;
}

CompressedTensorsConfig parse_compressed_tensors_config(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) bad(std::string("not valid JSON: ") + simdjson::error_message(err));
  simdjson::dom::object o;
  if (root.get_object().get(o)) bad("not an object");
  const std::string method = get_string(o, "quant_method", "", true);
  if (method != "compressed-tensors")
    throw Error(ErrorCode::UnsupportedConversion, "quantization method '" + method + "' is not supported",
                "Only compressed-tensors checkpoints (llm-compressor) are read");
  CompressedTensorsConfig qc;
  qc.format = get_string(o, "format", "dense");
  qc.quantization_status = get_string(o, "quantization_status", "");
  qc.version = get_string(o, "version", "");
  qc.ignore = get_strings(o, "ignore");
  simdjson::dom::element groups;
  if (!o["config_groups"].get(groups) && !groups.is_null()) {
    simdjson::dom::object go;
    if (groups.get_object().get(go)) bad("'config_groups' is not an object");
    for (auto field : go) {
      simdjson::dom::object g;
      if (field.value.get_object().get(g)) bad("group '" + std::string(field.key) + "' is not an object");
      CtScheme s;
      s.targets = get_strings(g, "targets");
      s.weights = get_args(g, "weights");
      s.input_activations = get_args(g, "input_activations");
      simdjson::dom::element f;
      std::string_view fs;
      if (!g["format"].get(f) && !f.get_string().get(fs)) s.format = std::string(fs);
      qc.groups.push_back(std::move(s));
    }
  }
  return qc;
}

std::string compressed_tensors_config_json(const CompressedTensorsConfig& qc, int indent) {
  JsonWriter w(indent);
  write_config(w, qc);
  return w.str();
}

std::string config_json_with_quantization(std::string_view original, const std::function<void(JsonWriter&)>& write) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(original);
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(padded).get(root) || root.get_object().get(o))
    throw Error(ErrorCode::ValidationFailed, "config.json is not a JSON object");
  std::vector<std::pair<std::string_view, simdjson::dom::element>> kv;
  for (auto field : o)
    if (field.key != "quantization_config") kv.emplace_back(field.key, field.value);
  std::stable_sort(kv.begin(), kv.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  JsonWriter w(2);
  w.begin_object();
  bool placed = false;
  for (const auto& [k, v] : kv) {
    if (!placed && k > "quantization_config") {
      w.key("quantization_config");
      write(w);
      placed = true;
    }
    w.key(k);
    write_sorted(w, v);
  }
  if (!placed) {
    w.key("quantization_config");
    write(w);
  }
  w.end_object();
  return w.str() + "\n";
}

std::string config_json_with_quantization(std::string_view original, const CompressedTensorsConfig& qc) {
  return config_json_with_quantization(original, [&](JsonWriter& w) { write_config(w, qc); });
}

const CtScheme* scheme_for(const CompressedTensorsConfig& qc, std::string_view hf_module) {
  auto matches = [&](const std::string& pattern) {
    if (pattern.rfind("re:", 0) == 0) {
      try {
        return Pattern(std::string_view(pattern).substr(3)).full_match(hf_module);
      } catch (const Error&) {
        bad("target '" + pattern + "' is not a valid regular expression");
      }
    }
    return pattern == "Linear" || pattern == hf_module;
  };
  for (const auto& ig : qc.ignore)
    if (matches(ig)) return nullptr;
  for (const auto& g : qc.groups)
    for (const auto& t : g.targets)
      if (matches(t)) return &g;
  return nullptr;
}

bool is_runnable_w8a8(const CtScheme& s, std::string* why) {
  auto fail = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  if (!s.weights) return fail("the scheme quantizes no weights");
  const auto& w = *s.weights;
  if (w.type != "int" || w.num_bits != 8 || !w.symmetric || w.strategy != "channel")
    return fail("weights are not int8 symmetric per channel");
  if (s.format && *s.format != "int-quantized" && *s.format != "naive-quantized")
    return fail("the group's format is not int-quantized");
  if (!s.input_activations) return fail("activations are not quantized (weight-only scheme)");
  const auto& a = *s.input_activations;
  if (a.type != "int" || a.num_bits != 8 || !a.symmetric) return fail("activations are not int8 symmetric");
  if (!((a.dynamic && a.strategy == "token") || (!a.dynamic && a.strategy == "tensor")))
    return fail("activations are neither dynamic per token nor static per tensor");
  return true;
}

}  // namespace libquant::io
