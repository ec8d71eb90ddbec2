#include "libquant/io/gptq_awq_config.hpp"

#include <simdjson.h>

#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"

namespace libquant::io {

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid GPTQ/AWQ quantization_config: " + what,
              "The checkpoint's config.json is corrupt or written by an incompatible tool");
}

// An optional field of type T (int64_t, bool, std::string_view): `def` when absent or null.
template <typename T>
T get(simdjson::dom::object o, const char* key, T def, const char* kind) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return def;
  T v;
  if (e.get<T>().get(v)) bad(std::string("'") + key + "' is not " + kind);
  return v;
}
int64_t get_int(simdjson::dom::object o, const char* key, int64_t def) { return get(o, key, def, "an integer"); }
bool get_bool(simdjson::dom::object o, const char* key, bool def) { return get(o, key, def, "true or false"); }
std::string get_string(simdjson::dom::object o, const char* key, std::string_view def) {
  return std::string(get(o, key, def, "a string"));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

}  // namespace

std::string quant_method_of(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object o;
  std::string_view m;
  if (parser.parse(padded).get_object().get(o) || o["quant_method"].get_string().get(m)) return "";
  return lower(std::string(m));
}

GptqAwqConfig parse_gptq_awq_config(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object o;
  if (parser.parse(padded).get_object().get(o)) bad("not a JSON object");
  const std::string method = lower(get_string(o, "quant_method", ""));
  GptqAwqConfig c;
  if (method == "gptq") {
    c.layout = IntCheckpointLayout::Gptq;
    c.bits = static_cast<int>(get_int(o, "bits", 4));
    c.group_size = get_int(o, "group_size", -1);
    c.symmetric = get_bool(o, "sym", true);
    c.desc_act = get_bool(o, "desc_act", false);
    c.static_groups = get_bool(o, "static_groups", false);
    const std::string format = lower(get_string(o, "checkpoint_format", "gptq"));
    if (format != "gptq" && format != "gptq_v2")
      throw Error(ErrorCode::UnsupportedConversion, "GPTQ checkpoint_format '" + format + "' is not supported",
                  "Supported: gptq, gptq_v2 (the Marlin and other kernel layouts are not read)");
    c.zeros_minus_one = format == "gptq";
  } else if (method == "awq") {
    c.layout = IntCheckpointLayout::AwqGemm;
    c.bits = static_cast<int>(get_int(o, "bits", get_int(o, "w_bit", 4)));
    c.group_size = get_int(o, "group_size", get_int(o, "q_group_size", 128));
    c.symmetric = !get_bool(o, "zero_point", true);
    const std::string version = lower(get_string(o, "version", "gemm"));
    if (version != "gemm")
      throw Error(ErrorCode::UnsupportedConversion, "AWQ version '" + version + "' is not supported",
                  "Only the GEMM layout is read");
    if (c.bits != 4) bad("AWQ GEMM holds 4-bit values, not " + std::to_string(c.bits));
    if (c.group_size <= 0) bad("AWQ needs a positive group_size");
  } else {
    throw Error(ErrorCode::UnsupportedConversion, "quantization method '" + method + "' is not GPTQ or AWQ");
  }
  if (c.bits != 2 && c.bits != 3 && c.bits != 4 && c.bits != 8)
    bad(std::to_string(c.bits) + "-bit values (2, 3, 4 or 8 supported)");
  if (c.group_size == 0 || c.group_size < -1) bad("group_size " + std::to_string(c.group_size));
  return c;
}

void write_gptq_awq_config(JsonWriter& w, const GptqAwqConfig& c) {
  w.begin_object();
  if (c.layout == IntCheckpointLayout::AwqGemm) {
    // AutoAWQ's to_transformers_dict, keys sorted.
    w.field("bits", c.bits).field("group_size", c.group_size).key("modules_to_not_convert").null();
    w.field("quant_method", "awq").field("version", "gemm").field("zero_point", true).end_object();
    return;
  }
  // What transformers' GPTQConfig and GPTQModel read (AutoGPTQ's keys), sorted.
  w.field("bits", c.bits).field("checkpoint_format", c.zeros_minus_one ? "gptq" : "gptq_v2");
  w.field("damp_percent", c.damp).field("desc_act", c.desc_act).field("group_size", c.group_size);
  w.key("meta").begin_object().field("quantizer", "llm-quantize").end_object();
  w.field("pack_dtype", "int32").field("quant_method", "gptq").field("static_groups", c.static_groups);
  w.field("sym", c.symmetric).field("true_sequential", true).end_object();
}

}  // namespace libquant::io
