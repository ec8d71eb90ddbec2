#include "libquant/model/gguf_metadata.hpp"

#include <algorithm>
#include <cmath>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"

namespace libquant::model {
using io::GgufKv;
using io::GgufScalar;
using io::GgufValue;

namespace {

// llama.cpp's defaults for the Gemma families: what their GGUF files need not say.
struct GemmaDefaults {
  int64_t global_every;         // every n-th layer is global, the others local
  bool local_base_is_global;    // Gemma 2: one RoPE base; Gemma 3: 10000 on the local layers
  int64_t width_scaled_layers;  // the 27B model (this many layers) scales queries by width / heads
};

GemmaDefaults gemma_defaults(std::string_view gguf_arch) {
  return gguf_arch == "gemma2" ? GemmaDefaults{2, true, 46} : GemmaDefaults{6, false, 62};
}

double default_local_rope_base(const ModelConfig& c, const GemmaDefaults& g) {
  return g.local_base_is_global ? c.rope_theta : 10000.0;
}

// GGUF has no key for the query scale: llama.cpp derives it from the shapes.
double llama_cpp_query_scale(const ModelConfig& c, const GemmaDefaults& g) {
  return 1.0 / std::sqrt(static_cast<double>(c.num_layers == g.width_scaled_layers ? c.hidden_size / c.num_heads
                                                                                   : c.head_dim));
}

// Gemma's local attention in llama.cpp's keys; the pattern and the local RoPE
// base only when they differ from the family's defaults, which is when the
// converter's files would be read wrong. Gemma 2 always carries its
// soft-caps, as the converter writes them.
void append_attention_layout(const ModelConfig& cfg, const std::string& a, std::vector<GgufKv>& kvs) {
  const GemmaDefaults g = gemma_defaults(a);
  const bool gemma2 = a == "gemma2";
  if (cfg.sliding_window > 0) {
    kvs.push_back({a + ".attention.sliding_window", GgufValue::u32(static_cast<uint32_t>(cfg.sliding_window))});
    if (cfg.local_layers != every_nth_layer_global(cfg.num_layers, g.global_every)) {
      std::vector<GgufScalar> flags;
      for (uint8_t f : cfg.local_layers) flags.emplace_back(f != 0);
      kvs.push_back({a + ".attention.sliding_window_pattern", GgufValue::array(io::GgufType::Bool, flags)});
    }
    if (cfg.rope_theta_local != default_local_rope_base(cfg, g) || !gemma2)  // Gemma 3: always, as the converter
      kvs.push_back({a + ".rope.freq_base_swa", GgufValue::f32(static_cast<float>(cfg.rope_theta_local))});
  }
  if (gemma2)
    kvs.push_back({a + ".attn_logit_softcapping", GgufValue::f32(static_cast<float>(cfg.attn_logit_softcap))});
  if (cfg.final_logit_softcap > 0 || gemma2)
    kvs.push_back({a + ".final_logit_softcapping", GgufValue::f32(static_cast<float>(cfg.final_logit_softcap))});
  const double derived = llama_cpp_query_scale(cfg, g);
  if (cfg.attention_scale > 0 && std::abs(cfg.attention_scale - derived) > 1e-6 * derived)
    log_warning("query_pre_attn_scalar gives a query scale of " + std::to_string(cfg.attention_scale) +
                "; GGUF cannot store it and llama.cpp will use " + std::to_string(derived) +
                " (as for llama.cpp's own conversion of this checkpoint)");
}

// Phi-3's RoPE context and window, Granite's multipliers and Command-R's
// logit scale, under the keys and on the conditions the converter writes them.
void append_family_scalars(const ModelConfig& cfg, const ArchitectureInfo& arch, const std::string& a,
                           std::vector<GgufKv>& kvs) {
  auto f32 = [](double v) { return GgufValue::f32(static_cast<float>(v)); };
  if (arch.fused_projections) {
    kvs.push_back({a + ".rope.scaling.original_context_length",
                   GgufValue::u32(static_cast<uint32_t>(cfg.rope_original_context ? cfg.rope_original_context
                                                                                  : cfg.max_position_embeddings))});
    kvs.push_back({a + ".attention.sliding_window", GgufValue::u32(static_cast<uint32_t>(cfg.sliding_window))});
    if (!cfg.rope_long_factors.empty()) kvs.push_back({a + ".rope.scaling.attn_factor", f32(cfg.rope_attn_factor)});
  }
  if (arch.multipliers) {
    if (cfg.attention_scale != 0.0) kvs.push_back({a + ".attention.scale", f32(cfg.attention_scale)});
    if (cfg.embedding_scale != 1.0) kvs.push_back({a + ".embedding_scale", f32(cfg.embedding_scale)});
    if (cfg.residual_scale != 1.0) kvs.push_back({a + ".residual_scale", f32(cfg.residual_scale)});
    kvs.push_back({a + ".logit_scale", f32(1.0 / cfg.logit_scale)});  // llama.cpp divides by it
  }
  if (arch.layer_norm) {
    kvs.push_back({a + ".logit_scale", f32(cfg.logit_scale)});  // llama.cpp multiplies by it
    kvs.push_back({a + ".rope.scaling.type", GgufValue::str("none")});
  }
}

// The same scalars read back, with llama.cpp's meaning of absent keys; Phi-3's
// window is not read because llama.cpp runs Phi-3 without it.
void read_family_scalars(const io::GgufHeader& h, const ArchitectureInfo& arch, const std::string& a, ModelConfig& c) {
  auto number = [&](const std::string& key, double def) {
    const io::GgufValue* v = h.find(a + key);
    return v && !v->is_array() ? v->as_double() : def;
  };
  if (const auto* v = h.find(a + ".rope.dimension_count"); v && !v->is_array()) c.rope_dims = v->as_int();
  if (arch.fused_projections) {
    // Absent (the converter always writes it): the training context, as llama.cpp's n_ctx_orig_yarn.
    c.rope_original_context = static_cast<int64_t>(
        number(".rope.scaling.original_context_length", static_cast<double>(c.max_position_embeddings)));
    c.rope_attn_factor = number(".rope.scaling.attn_factor", 1.0);
  }
  if (arch.multipliers) {
    c.attention_scale = number(".attention.scale", 0.0);
    c.embedding_scale = number(".embedding_scale", 0.0);
    c.residual_scale = number(".residual_scale", 0.0);
    if (c.embedding_scale == 0.0) c.embedding_scale = 1.0;  // llama.cpp: 0 means unset
    if (c.residual_scale == 0.0) c.residual_scale = 1.0;
    const double divisor = number(".logit_scale", 1.0);
    c.logit_scale = divisor != 0.0 ? 1.0 / divisor : 0.0;
  }
  if (arch.layer_norm) {
    c.rms_norm_eps = number(".attention.layer_norm_epsilon", c.rms_norm_eps);
    c.logit_scale = number(".logit_scale", 0.0);
    if (c.logit_scale == 0.0) c.logit_scale = 1.0;
  }
}

// Whether llama.cpp's graph of a family renormalises the top-k expert weights
// when the file does not say (Qwen2-MoE does not; Mixtral and Qwen3-MoE do).
bool default_expert_weights_norm(std::string_view gguf_arch) { return gguf_arch != "qwen2moe"; }

// The expert counts and widths, as the converter writes them: Mixtral's
// experts are feed_forward_length wide, Qwen-MoE's have a key of their own.
void append_experts(const ModelConfig& cfg, const std::string& a, std::vector<GgufKv>& kvs) {
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  kvs.push_back({a + ".expert_count", u32(cfg.num_experts)});
  kvs.push_back({a + ".expert_used_count", u32(cfg.num_experts_used)});
  if (a != "llama") kvs.push_back({a + ".expert_feed_forward_length", u32(cfg.expert_intermediate_size)});
  if (cfg.shared_expert_intermediate_size > 0)
    kvs.push_back({a + ".expert_shared_feed_forward_length", u32(cfg.shared_expert_intermediate_size)});
  if (cfg.expert_weights_norm != default_expert_weights_norm(a))
    log_warning(std::string("config.json ") + (cfg.expert_weights_norm ? "renormalises" : "does not renormalise") +
                " the top-k expert weights (norm_topk_prob); llama.cpp's " + a + " graph " +
                (cfg.expert_weights_norm ? "does not" : "does") + ", so llama.cpp will run this GGUF differently");
}

void read_experts(const io::GgufHeader& h, const std::string& a, ModelConfig& c) {
  auto get = [&](const char* key, int64_t def) {
    const io::GgufValue* v = h.find(a + key);
    return v && !v->is_array() ? v->as_int() : def;
  };
  c.num_experts = get(".expert_count", 0);
  if (c.num_experts == 0) return;
  c.num_experts_used = get(".expert_used_count", 0);
  c.expert_intermediate_size = get(".expert_feed_forward_length", c.intermediate_size);
  // llama.cpp's Qwen2-MoE: a shared expert as wide as feed_forward_length unless the file says otherwise.
  c.shared_expert_intermediate_size =
      get(".expert_shared_feed_forward_length", a == "qwen2moe" ? c.intermediate_size : 0);
  c.expert_weights_norm = default_expert_weights_norm(a);
  if (const auto* v = h.find(a + ".expert_weights_norm"); v && !v->is_array()) c.expert_weights_norm = v->as_int() != 0;
}

// Mamba-2's keys in the converter's order: no attention, no FFN, no RoPE, no vocab_size key.
std::vector<GgufKv> ssm_metadata(const ModelConfig& cfg, const std::string& a, LlamaFileType file_type,
                                 std::string_view model_name, std::vector<GgufKv> tokenizer) {
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  std::vector<GgufKv> kvs = {
      {"general.architecture", GgufValue::str(a)},
      {"general.type", GgufValue::str("model")},
      {"general.name", GgufValue::str(std::string(model_name))},
      {a + ".context_length", u32(cfg.max_position_embeddings)},
      {a + ".embedding_length", u32(cfg.hidden_size)},
      {a + ".feed_forward_length", u32(0)},
      {a + ".attention.head_count", u32(0)},
      {a + ".block_count", u32(cfg.num_layers)},
      {a + ".ssm.conv_kernel", u32(cfg.ssm_conv_kernel)},
      {a + ".ssm.inner_size", u32(cfg.ssm_inner_size)},
      {a + ".ssm.state_size", u32(cfg.ssm_state_size)},
      {a + ".ssm.time_step_rank", u32(cfg.ssm_heads)},
      {a + ".ssm.group_count", u32(cfg.ssm_groups)},
      {a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(cfg.rms_norm_eps))},
      {"general.file_type", GgufValue::u32(static_cast<uint32_t>(file_type))},
  };
  if (cfg.ssm_dt_min > 0.0 || cfg.ssm_dt_max > 0.0)
    log_warning(
        "config.json clamps the time step (time_step_limit); GGUF cannot store the clamp and llama.cpp "
        "runs without it");
  for (auto& kv : tokenizer) kvs.push_back(std::move(kv));
  kvs.push_back({"general.quantization_version", GgufValue::u32(2)});
  return kvs;
}

// Qwen3.5's DeltaNet sizes (llama.cpp's ssm.* keys), which layers are
// recurrent, the full-attention interval and the multimodal RoPE sections.
void append_delta_net(const ModelConfig& cfg, const std::string& a, std::vector<GgufKv>& kvs) {
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  std::vector<GgufScalar> sections, recurrent;
  for (int64_t v : cfg.rope_sections) sections.emplace_back(static_cast<int32_t>(v));
  for (uint8_t r : cfg.recurrent_layers) recurrent.emplace_back(r != 0);
  for (int64_t i = 0; i < cfg.nextn_layers; ++i) recurrent.emplace_back(false);  // MTP blocks are full attention
  if (cfg.nextn_layers > 0) kvs.push_back({a + ".nextn_predict_layers", u32(cfg.nextn_layers)});
  if (!sections.empty())
    kvs.push_back({a + ".rope.dimension_sections", GgufValue::array(io::GgufType::Int32, sections)});
  kvs.push_back({a + ".ssm.conv_kernel", u32(cfg.ssm_conv_kernel)});
  kvs.push_back({a + ".ssm.state_size", u32(cfg.ssm_state_size)});
  kvs.push_back({a + ".ssm.group_count", u32(cfg.ssm_groups)});
  kvs.push_back({a + ".ssm.time_step_rank", u32(cfg.ssm_heads)});
  kvs.push_back({a + ".ssm.inner_size", u32(cfg.ssm_inner_size)});
  kvs.push_back({a + ".attention.recurrent_layers", GgufValue::array(io::GgufType::Bool, recurrent)});
  kvs.push_back({a + ".full_attention_interval", u32(cfg.full_attention_interval)});
}

// Qwen3.5: which layers are recurrent, as llama.cpp decides it (the flags,
// else every full_attention_interval-th layer is full attention).
void read_recurrent_layers(const io::GgufHeader& h, const std::string& a, ModelConfig& c) {
  c.recurrent_layers.assign(static_cast<size_t>(std::clamp<int64_t>(c.num_layers, 0, 1 << 16)), 0);
  if (const auto* v = h.find(a + ".attention.recurrent_layers"); v && v->is_array()) {
    const io::GgufArray& arr = v->array();
    for (size_t l = 0; l < c.recurrent_layers.size() && l < arr.size(); ++l)
      c.recurrent_layers[l] = arr.number_at(l) != 0;
  } else {
    int64_t every = 4;
    if (const auto* iv = h.find(a + ".full_attention_interval"); iv && !iv->is_array()) every = iv->as_int();
    for (size_t l = 0; l < c.recurrent_layers.size(); ++l)
      c.recurrent_layers[l] = every <= 0 || (static_cast<int64_t>(l) + 1) % every != 0;
  }
  if (const auto* v = h.find(a + ".full_attention_interval"); v && !v->is_array())
    c.full_attention_interval = v->as_int();
  if (const auto* v = h.find(a + ".rope.dimension_sections"); v && v->is_array())
    for (size_t i = 0; i < v->array().size() && i < 4; ++i)
      c.rope_sections.push_back(static_cast<int64_t>(v->array().number_at(i)));
}

// The mixer sizes of state-space and DeltaNet layers. Mamba-2's attention
// keys (head_count 0) mean nothing and are cleared.
void read_ssm(const io::GgufHeader& h, const std::string& a, const ArchitectureInfo& arch, ModelConfig& c) {
  if (arch.ssm) c.num_heads = c.num_kv_heads = c.head_dim = c.intermediate_size = 0;
  if (arch.gated_delta_net) {
    // block_count holds the multi-token-prediction blocks too; the model's own layers come first.
    if (const auto* v = h.find(a + ".nextn_predict_layers"); v && !v->is_array()) c.nextn_layers = v->as_int();
    if (c.nextn_layers < 0 || c.nextn_layers >= c.num_layers) c.nextn_layers = 0;  // nonsense: validation sees all
    c.num_layers -= c.nextn_layers;
    read_recurrent_layers(h, a, c);
  }
  auto get = [&](const char* key) {
    const io::GgufValue* v = h.find(a + key);
    return v && !v->is_array() ? v->as_int() : 0;
  };
  c.ssm_conv_kernel = get(".ssm.conv_kernel");
  c.ssm_inner_size = get(".ssm.inner_size");
  c.ssm_state_size = get(".ssm.state_size");
  c.ssm_heads = get(".ssm.time_step_rank");
  c.ssm_groups = get(".ssm.group_count");
}

}  // namespace

std::vector<GgufKv> build_gguf_metadata(const ModelConfig& cfg, LlamaFileType file_type, std::string_view model_name,
                                        std::vector<GgufKv> tokenizer) {
  const ArchitectureInfo* arch = cfg.arch();
  check(arch != nullptr, ErrorCode::UnsupportedConversion, "architecture '" + cfg.architecture + "' is not supported");
  const std::string a(arch->gguf_arch);
  if (arch->ssm) return ssm_metadata(cfg, a, file_type, model_name, std::move(tokenizer));
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  std::vector<GgufKv> kvs = {
      {"general.architecture", GgufValue::str(a)},
      {"general.type", GgufValue::str("model")},
      {"general.name", GgufValue::str(std::string(model_name))},
      {a + ".block_count", u32(cfg.total_blocks())},
      {a + ".context_length", u32(cfg.max_position_embeddings)},
      {a + ".embedding_length", u32(cfg.hidden_size)},
      {a + ".feed_forward_length", u32(cfg.intermediate_size)},
      {a + ".attention.head_count", u32(cfg.num_heads)},
      {a + ".attention.head_count_kv", u32(cfg.num_kv_heads)},
      {a + ".rope.freq_base", GgufValue::f32(static_cast<float>(cfg.rope_theta))},
      {a + (arch->layer_norm ? ".attention.layer_norm_epsilon" : ".attention.layer_norm_rms_epsilon"),
       GgufValue::f32(static_cast<float>(cfg.rms_norm_eps))},
  };
  if (cfg.is_moe()) append_experts(cfg, a, kvs);
  if (cfg.head_dim * cfg.num_heads != cfg.hidden_size || arch->gemma_layout ||
      arch->gated_delta_net) {  // as the converter
    kvs.push_back({a + ".attention.key_length", u32(cfg.head_dim)});
    kvs.push_back({a + ".attention.value_length", u32(cfg.head_dim)});
  }
  if (arch->gemma_layout) append_attention_layout(cfg, a, kvs);
  append_family_scalars(cfg, *arch, a, kvs);
  if (arch->gated_delta_net) append_delta_net(cfg, a, kvs);
  kvs.push_back({"general.file_type", GgufValue::u32(static_cast<uint32_t>(file_type))});
  kvs.push_back({a + ".vocab_size", u32(cfg.vocab_size)});
  kvs.push_back({a + ".rope.dimension_count", u32(cfg.rotary_dims())});
  if (cfg.rope_scaling_type && (*cfg.rope_scaling_type == "linear" || *cfg.rope_scaling_type == "yarn")) {
    kvs.push_back({a + ".rope.scaling.type", GgufValue::str(*cfg.rope_scaling_type)});
    kvs.push_back({a + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(cfg.rope_scaling_factor))});
    if (cfg.rope_original_context)
      kvs.push_back({a + ".rope.scaling.original_context_length", u32(cfg.rope_original_context)});
  }
  for (auto& kv : tokenizer) kvs.push_back(std::move(kv));
  kvs.push_back({"general.quantization_version", GgufValue::u32(2)});
  return kvs;
}

namespace {

// Local attention, per-layer RoPE base, query scale and logit soft-capping, as
// llama.cpp reads them, with its per-family defaults (GemmaDefaults; Gemma 2
// also defaults to a 4096 window and soft-caps 50 / 30).
void read_attention_layout(const io::GgufHeader& h, const std::string& a, ModelConfig& c) {
  const bool gemma2 = a == "gemma2", gemma3 = a == "gemma3";
  if (!gemma2 && !gemma3) return;  // only these families' llama.cpp graphs have local attention
  const GemmaDefaults g = gemma_defaults(a);
  int64_t window = gemma2 ? 4096 : 0;
  if (const auto* v = h.find(a + ".attention.sliding_window"); v && !v->is_array()) window = v->as_int();
  if (window > 0) {
    c.sliding_window = window;
    const auto* pat = h.find(a + ".attention.sliding_window_pattern");
    if (pat && pat->is_array()) {  // one flag per layer (layers it does not list stay local)
      c.local_layers.assign(static_cast<size_t>(std::max<int64_t>(c.num_layers, 0)), 1);
      const io::GgufArray& arr = pat->array();
      for (size_t l = 0; l < c.local_layers.size() && l < arr.size(); ++l) c.local_layers[l] = arr.number_at(l) != 0;
    } else {
      c.local_layers = every_nth_layer_global(c.num_layers, pat ? pat->as_int() : g.global_every);
    }
    c.rope_theta_local = default_local_rope_base(c, g);
    if (const auto* v = h.find(a + ".rope.freq_base_swa")) c.rope_theta_local = v->as_double();
  }
  if (gemma2) {
    c.attn_logit_softcap = 50.0, c.final_logit_softcap = 30.0;
    if (const auto* v = h.find(a + ".attn_logit_softcapping")) c.attn_logit_softcap = v->as_double();
  }
  if (const auto* v = h.find(a + ".final_logit_softcapping")) c.final_logit_softcap = v->as_double();
  if (c.num_heads > 0) c.attention_scale = llama_cpp_query_scale(c, g);
}

}  // namespace

ModelConfig config_from_gguf(const io::GgufHeader& h) {
  ModelConfig c;
  const io::GgufValue* archv = h.find("general.architecture");
  check(archv != nullptr, ErrorCode::ValidationFailed, "GGUF file has no general.architecture");
  const std::string a = archv->as_string();
  const ArchitectureInfo* info = find_architecture_by_gguf(a);
  c.architecture = info ? std::string(info->hf_class) : a;
  c.model_type = a;
  auto get = [&](const std::string& key, int64_t def) {
    const io::GgufValue* v = h.find(a + "." + key);
    return v ? v->as_int() : def;
  };
  c.hidden_size = get("embedding_length", 0);
  c.intermediate_size = get("feed_forward_length", 0);
  c.num_layers = get("block_count", 0);
  c.num_heads = get("attention.head_count", 0);
  c.num_kv_heads = get("attention.head_count_kv", c.num_heads);
  c.head_dim = get("attention.key_length", c.num_heads ? c.hidden_size / c.num_heads : 0);
  c.max_position_embeddings = get("context_length", 0);
  if (const auto* v = h.find(a + ".attention.layer_norm_rms_epsilon")) c.rms_norm_eps = v->as_double();
  if (const auto* v = h.find(a + ".rope.freq_base")) c.rope_theta = v->as_double();
  c.vocab_size = get("vocab_size", 0);
  if (c.vocab_size == 0)
    if (const auto* t = h.find("tokenizer.ggml.tokens"); t && t->is_array())
      c.vocab_size = static_cast<int64_t>(t->array().size());
  c.tie_word_embeddings = h.find_tensor("output.weight") == nullptr;
  read_attention_layout(h, a, c);
  if (info) read_family_scalars(h, *info, a, c);
  read_experts(h, a, c);
  if (info && (info->ssm || info->gated_delta_net)) read_ssm(h, a, *info, c);
  if (const auto* v = h.find("tokenizer.ggml.bos_token_id")) c.bos_token_id = v->as_int();
  if (const auto* v = h.find("tokenizer.ggml.eos_token_id")) c.eos_token_id = v->as_int();
  return c;
}

}  // namespace libquant::model
