#include "libquant/core/read_file.hpp"
#include "libquant/methods/quant_profile.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::methods {
namespace fs = std::filesystem;

const std::vector<std::string_view>& profile_tensor_classes() {
  static const std::vector<std::string_view> k = {"attn_q",   "attn_k",     "attn_v",   "attn_output",
                                                  "ffn_gate", "ffn_up",     "ffn_down", "attention",
                                                  "mlp",      "token_embd", "output"};
  return k;
}

int tensor_layer(std::string_view name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int layer = 0;
  size_t i = 4;
  if (i >= name.size() || name[i] < '0' || name[i] > '9') return -1;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) layer = layer * 10 + (name[i] - '0');
  return layer;
}

bool tensor_in_class(std::string_view name, std::string_view cls) {
  if (cls == "token_embd") return name == "token_embd.weight";
  if (cls == "output") return name == "output.weight";
  if (tensor_layer(name) < 0) return false;
  const auto dot = name.find('.', 4);
  const std::string_view role = name.substr(dot + 1);  // "attn_q.weight"
  if (cls == "attention") return role.rfind("attn_", 0) == 0 && role.find("norm") == std::string_view::npos;
  if (cls == "mlp") return role.rfind("ffn_", 0) == 0 && role.find("norm") == std::string_view::npos;
  return role.rfind(std::string(cls) + ".", 0) == 0;
}

namespace {
int resolve_layer(int l, int n_layers) { return l < 0 ? n_layers + l : l; }

bool rule_matches(const ProfileRule& r, const std::optional<Pattern>& pattern, std::string_view name, int n_layers) {
  if (!r.tensor_class.empty() && !tensor_in_class(name, r.tensor_class)) return false;
  if (r.first_layer || r.last_layer) {
    const int layer = tensor_layer(name);
    if (layer < 0) return false;
    if (r.first_layer && layer < resolve_layer(*r.first_layer, n_layers)) return false;
    if (r.last_layer && layer > resolve_layer(*r.last_layer, n_layers)) return false;
  }
  return !pattern || pattern->search(name);
}

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(ErrorCode::ProfileInvalid, origin + ": " + what,
              "See docs/formats/dqprofile.md, or start from a preset (`profile_to_json`)");
}

DType parse_type(std::string_view s, const std::string& origin) {
  const auto t = ggml_type_from_name(s);
  if (!t || !gguf::can_quantize(*t) || *t == DType::Q8_K || *t == DType::Q8_1)
    bad(origin, "'" + std::string(s) + "' is not a GGUF type libquant can write");
  return *t;
}

ProfileRule make_rule(std::string cls, DType t, std::optional<int> first = {}, std::optional<int> last = {}) {
  ProfileRule r;
  r.tensor_class = std::move(cls);
  r.type = t;
  r.first_layer = first;
  r.last_layer = last;
  return r;
}
}  // namespace

ProfileMatcher::ProfileMatcher(const QuantProfile& p, int n_layers) : p_(p), n_layers_(n_layers) {
  for (const auto& r : p.rules)
    patterns_.push_back(r.pattern.empty() ? std::nullopt
                                          : std::optional<Pattern>(
                                                Pattern(r.pattern, ErrorCode::ProfileInvalid, "profile rule pattern")));
}

std::optional<size_t> ProfileMatcher::rule_index(std::string_view name) const {
  for (size_t i = 0; i < p_.rules.size(); ++i)
    if (rule_matches(p_.rules[i], patterns_[i], name, n_layers_)) return i;
  return std::nullopt;
}

std::optional<DType> ProfileMatcher::type(std::string_view name) const {
  const auto i = rule_index(name);
  return i ? std::optional<DType>(p_.rules[*i].type) : std::nullopt;
}

std::optional<size_t> matching_rule(const QuantProfile& p, std::string_view name, int n_layers) {
  return ProfileMatcher(p, n_layers).rule_index(name);
}

std::optional<DType> match_rule(const QuantProfile& p, std::string_view name, int n_layers) {
  return ProfileMatcher(p, n_layers).type(name);
}

const std::vector<QuantProfile>& preset_profiles() {
  static const std::vector<QuantProfile> k = [] {
    std::vector<QuantProfile> v;
    QuantProfile a;
    a.name = "attention-high";
    a.strategy = "attention_high";
    a.description = "Attention layers at 4-bit, MLP at 2-bit";
    a.rules = {make_rule("attention", DType::Q4_K), make_rule("mlp", DType::Q2_K), make_rule("output", DType::Q6_K),
               make_rule("token_embd", DType::Q4_K)};
    v.push_back(a);
    QuantProfile b;
    b.name = "balanced";
    b.strategy = "balanced";
    b.description = "4-bit, attn_v and ffn_down at 5-bit (6-bit in the first two layers), output 6-bit";
    b.default_type = DType::Q4_K;
    b.rules = {make_rule("attn_v", DType::Q6_K, 0, 1), make_rule("ffn_down", DType::Q6_K, 0, 1),
               make_rule("attn_v", DType::Q5_K), make_rule("ffn_down", DType::Q5_K), make_rule("output", DType::Q6_K)};
    v.push_back(b);
    QuantProfile c;
    c.name = "compression-max";
    c.strategy = "compression_max";
    c.description = "Minimize size while maintaining coherence: 2-bit, attn_v/ffn_down/attn_output 3-bit, output 4-bit";
    c.default_type = DType::Q2_K;
    c.rules = {make_rule("attn_v", DType::Q3_K), make_rule("ffn_down", DType::Q3_K),
               make_rule("attn_output", DType::Q3_K), make_rule("output", DType::Q4_K),
               make_rule("token_embd", DType::Q2_K)};
    v.push_back(c);
    return v;
  }();
  return k;
}

QuantProfile parse_profile(std::string_view json, const std::string& origin) {
  simdjson::dom::parser parser;
  simdjson::padded_string text(json.data(), json.size());
  simdjson::dom::element root;
  simdjson::dom::object obj;
  if (parser.parse(text).get(root) || root.get_object().get(obj)) bad(origin, "not a JSON object");
  QuantProfile p;
  bool has_rules = false;
  for (auto field : obj) {
    const std::string key(field.key);
    const auto v = field.value;
    std::string_view s;
    if (key == "format") {
      if (v.get_string().get(s) || s != "libquant.dqprofile") bad(origin, "\"format\" must be \"libquant.dqprofile\"");
    } else if (key == "version") {
      int64_t ver = 0;
      if (v.get_int64().get(ver) || ver != 1) bad(origin, "unsupported \"version\" (this build reads version 1)");
    } else if (key == "profile_name" || key == "description" || key == "strategy") {
      if (v.get_string().get(s)) bad(origin, "\"" + key + "\" must be a string");
      (key == "profile_name" ? p.name : key == "description" ? p.description : p.strategy) = std::string(s);
    } else if (key == "default_type") {
      if (v.get_string().get(s)) bad(origin, "\"default_type\" must be a type name");
      p.default_type = parse_type(s, origin);
    } else if (key == "target_bpw") {
      double b = 0;
      if (v.get_double().get(b) || b < 1.0 || b > 16.0) bad(origin, "\"target_bpw\" must be a number in [1, 16]");
      p.target_bpw = b;
    } else if (key == "candidates") {
      simdjson::dom::array arr;
      if (v.get_array().get(arr)) bad(origin, "\"candidates\" must be an array of type names");
      for (auto e : arr) {
        if (e.get_string().get(s)) bad(origin, "\"candidates\" must be an array of type names");
        p.candidates.push_back(parse_type(s, origin));
      }
    } else if (key == "rules") {
      has_rules = true;
      simdjson::dom::array arr;
      if (v.get_array().get(arr)) bad(origin, "\"rules\" must be an array");
      size_t i = 0;
      for (auto e : arr) {
        const std::string where = "rule " + std::to_string(i++);
        simdjson::dom::object r;
        if (e.get_object().get(r)) bad(origin, where + " is not an object");
        ProfileRule rule;
        bool typed = false;
        for (auto rf : r) {
          const std::string rk(rf.key);
          if (rk == "tensor") {
            if (rf.value.get_string().get(s)) bad(origin, where + ": \"tensor\" must be a regex string");
            rule.pattern = std::string(s);
            try {
              Pattern check(rule.pattern);
            } catch (const Error& err) {
              bad(origin, where + ": \"tensor\": " + err.what());
            }
          } else if (rk == "class") {
            if (rf.value.get_string().get(s)) bad(origin, where + ": \"class\" must be a string");
            const auto& cls = profile_tensor_classes();
            if (std::find(cls.begin(), cls.end(), s) == cls.end())
              bad(origin, where + ": unknown class '" + std::string(s) + "'");
            rule.tensor_class = std::string(s);
          } else if (rk == "layers") {
            simdjson::dom::array range;
            int64_t a = 0, b = 0;
            if (rf.value.get_array().get(range) || range.size() != 2 || range.at(0).get_int64().get(a) ||
                range.at(1).get_int64().get(b))
              bad(origin, where + ": \"layers\" must be [first, last] (integers; negative count from the end)");
            rule.first_layer = static_cast<int>(a);
            rule.last_layer = static_cast<int>(b);
          } else if (rk == "type") {
            if (rf.value.get_string().get(s)) bad(origin, where + ": \"type\" must be a type name");
            rule.type = parse_type(s, origin);
            typed = true;
          } else {
            bad(origin, where + ": unknown key \"" + rk + "\"");
          }
        }
        if (!typed) bad(origin, where + " has no \"type\"");
        p.rules.push_back(std::move(rule));
      }
    } else if (key == "layer_assignments") {
      bad(origin, "\"layer_assignments\" (bit widths per layer) is not supported; use \"rules\" with GGUF types");
    } else {
      bad(origin, "unknown key \"" + key + "\"");
    }
  }
  if (p.name.empty()) bad(origin, "\"profile_name\" is required");
  if (!has_rules && !p.default_type && !p.target_bpw)
    bad(origin, "a profile needs \"rules\", a \"default_type\" or a \"target_bpw\"");
  return p;
}

QuantProfile load_profile(const std::string& name_or_path, const std::vector<fs::path>& search_dirs) {
  for (const auto& p : preset_profiles())
    if (p.name == name_or_path) return p;
  std::vector<fs::path> tries = {name_or_path};
  for (const fs::path& dir : search_dirs) {
    tries.push_back(dir / name_or_path);
    tries.push_back(dir / (name_or_path + ".dqprofile"));
  }
  for (const auto& path : tries) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) continue;
    return parse_profile(read_whole_file(path, ErrorCode::ProfileInvalid, "profile", 64u << 20),
                         "'" + path.string() + "'");
  }
  throw Error(ErrorCode::ProfileInvalid, "profile '" + name_or_path + "' is neither a preset nor a file",
              "Presets: attention-high, balanced, compression-max (`preset_profiles`)");
}

std::string profile_to_json(const QuantProfile& p) {
  JsonWriter j(2);
  j.begin_object().field("format", "libquant.dqprofile").field("version", 1).field("profile_name", p.name);
  if (!p.description.empty()) j.field("description", p.description);
  j.field("strategy", p.strategy);
  if (p.default_type) j.field("default_type", std::string(traits(*p.default_type).name));
  if (p.target_bpw) j.field("target_bpw", *p.target_bpw);
  if (!p.candidates.empty()) {
    j.key("candidates").begin_array();
    for (DType t : p.candidates) j.value(std::string(traits(t).name));
    j.end_array();
  }
  j.key("rules").begin_array();
  for (const auto& r : p.rules) {
    j.begin_object();
    if (!r.pattern.empty()) j.field("tensor", r.pattern);
    if (!r.tensor_class.empty()) j.field("class", r.tensor_class);
    if (r.first_layer || r.last_layer) {
      j.key("layers").begin_array().value(r.first_layer.value_or(0)).value(r.last_layer.value_or(-1)).end_array();
    }
    j.field("type", std::string(traits(r.type).name)).end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

void save_profile(const QuantProfile& p, const fs::path& path) {
  AtomicFile out(path);
  const std::string s = profile_to_json(p);
  out.write(s.data(), s.size());
  out.commit();
}

}  // namespace libquant::methods
