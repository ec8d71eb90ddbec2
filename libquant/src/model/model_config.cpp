#include "libquant/core/read_file.hpp"
#include "libquant/model/model_config.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "libquant/core/error.hpp"

namespace libquant::model {

namespace {
constexpr ArchitectureInfo kArchitectures[] = {
    {.hf_class = "LlamaForCausalLM", .gguf_arch = "llama", .permute_qk = true, .qkv_bias = false, .qk_norm = false},
    {.hf_class = "MistralForCausalLM", .gguf_arch = "llama", .permute_qk = true, .qkv_bias = false, .qk_norm = false},
    {.hf_class = "Qwen2ForCausalLM", .gguf_arch = "qwen2", .permute_qk = false, .qkv_bias = true, .qk_norm = false},
    {.hf_class = "Qwen3ForCausalLM", .gguf_arch = "qwen3", .permute_qk = false, .qkv_bias = false, .qk_norm = true},
    // Mixture-of-experts blocks (read_experts): Mixtral is a Llama in GGUF, with stacked experts.
    {.hf_class = "MixtralForCausalLM", .gguf_arch = "llama", .permute_qk = true, .qkv_bias = false, .qk_norm = false},
    {.hf_class = "Qwen2MoeForCausalLM",
     .gguf_arch = "qwen2moe",
     .permute_qk = false,
     .qkv_bias = true,
     .qk_norm = false},
    {.hf_class = "Qwen3MoeForCausalLM",
     .gguf_arch = "qwen3moe",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true},
    // Gemma 2 and 3: in GGUF the norm weights hold 1 + w.
    {.hf_class = "Gemma2ForCausalLM",
     .gguf_arch = "gemma2",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = false,
     .post_norms = true,
     .gelu = true,
     .scaled_embedding = true,
     .unit_offset_norms = true,
     .gemma_layout = true},
    {.hf_class = "Gemma3ForCausalLM",
     .gguf_arch = "gemma3",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .post_norms = true,
     .gelu = true,
     .scaled_embedding = true,
     .unit_offset_norms = true,
     .gemma_layout = true},
    // OLMo 2: norms only on the outputs, q/k norms over all heads.
    {.hf_class = "Olmo2ForCausalLM",
     .gguf_arch = "olmo2",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .post_norms = true,
     .pre_norms = false,
     .qk_norm_whole = true},
    // Phi-3 / Phi-4: fused projections, kept fused in GGUF; LongRoPE and partial rotary from the config.
    {.hf_class = "Phi3ForCausalLM",
     .gguf_arch = "phi3",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = false,
     .fused_projections = true},
    // Granite: the Llama block with multipliers on the embedding, residual branches, scores and logits.
    {.hf_class = "GraniteForCausalLM",
     .gguf_arch = "granite",
     .permute_qk = true,
     .qkv_bias = false,
     .qk_norm = false,
     .multipliers = true},
    // Command-R: one LayerNorm feeding attention and FFN in parallel, adjacent-pair RoPE, scaled logits.
    {.hf_class = "CohereForCausalLM",
     .gguf_arch = "command-r",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = false,
     .layer_norm = true,
     .parallel_block = true,
     .interleaved_rope = true},
    // Qwen3.5: gated DeltaNet and gated full attention, (1 + w) norms, partial rotary (read_qwen35).
    {.hf_class = "Qwen3_5ForCausalLM",
     .gguf_arch = "qwen35",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .unit_offset_norms = true,
     .gated_delta_net = true,
     .attention_gate = true},
    {.hf_class = "Qwen3_5ForConditionalGeneration",
     .gguf_arch = "qwen35",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .unit_offset_norms = true,
     .gated_delta_net = true,
     .attention_gate = true,
     .multimodal = true},
    // Qwen3-Next: Qwen3.5-MoE's layers before the value-head reordering, with fused DeltaNet inputs.
    {.hf_class = "Qwen3NextForCausalLM",
     .gguf_arch = "qwen3next",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .unit_offset_norms = true,
     .gated_delta_net = true,
     .attention_gate = true,
     .grouped_value_heads = true},
    // Qwen3.5-MoE: the same layers with Qwen2-MoE's FFN (shared expert, sigmoid gate; top-k always renormalised).
    {.hf_class = "Qwen3_5MoeForCausalLM",
     .gguf_arch = "qwen35moe",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .unit_offset_norms = true,
     .gated_delta_net = true,
     .attention_gate = true},
    {.hf_class = "Qwen3_5MoeForConditionalGeneration",
     .gguf_arch = "qwen35moe",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = true,
     .unit_offset_norms = true,
     .gated_delta_net = true,
     .attention_gate = true,
     .multimodal = true},
    // Mamba-2: RMSNorm then a state-space mixer in every layer (read_mamba2).
    {.hf_class = "Mamba2ForCausalLM",
     .gguf_arch = "mamba2",
     .permute_qk = false,
     .qkv_bias = false,
     .qk_norm = false,
     .ssm = true},
};

[[noreturn]] void bad_config(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid config.json: " + what, "Check the checkpoint's config.json");
}

int64_t get_int(simdjson::dom::object& o, const char* key, bool required, int64_t def = 0) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) {
    if (required) bad_config(std::string("missing integer '") + key + "'");
    return def;
  }
  int64_t v;
  if (e.get_int64().get(v)) {
    double d;
    if (e.get_double().get(d) || d != static_cast<double>(static_cast<int64_t>(d)))
      bad_config(std::string("'") + key + "' is not an integer");
    v = static_cast<int64_t>(d);
  }
  if (v < 0) bad_config(std::string("'") + key + "' is negative");
  return v;
}

double get_double(simdjson::dom::object& o, const char* key, double def) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return def;
  double d;
  if (e.get_double().get(d)) {
    int64_t i;
    if (e.get_int64().get(i)) bad_config(std::string("'") + key + "' is not a number");
    d = static_cast<double>(i);
  }
  return d;
}

std::optional<int64_t> get_token_id(simdjson::dom::object& o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return std::nullopt;
  int64_t v;
  if (!e.get_int64().get(v)) return v;
  simdjson::dom::array a;  // some configs list several eos ids: take the first
  if (!e.get_array().get(a))
    for (auto x : a)
      if (!x.get_int64().get(v)) return v;
  return std::nullopt;
}
// Gemma 3's attention layout: which layers are local (layer_types, or every
// n-th global by sliding_window_pattern), the RoPE base of each kind
// (rope_parameters in transformers 5, rope_theta / rope_local_base_freq
// before), the query scale and the soft-caps.
void read_gemma_layout(simdjson::dom::object& o, ModelConfig& c) {
  // Gemma 2: every 2nd layer global, one RoPE base (read by the caller); Gemma 3: every 6th, 1e6 / 1e4.
  const bool gemma2 = c.architecture == "Gemma2ForCausalLM";
  c.sliding_window = get_int(o, "sliding_window", false, 0);
  c.local_layers.assign(static_cast<size_t>(c.num_layers), 0);
  simdjson::dom::array types;
  if (!o["layer_types"].get_array().get(types)) {
    if (types.size() != c.local_layers.size()) bad_config("'layer_types' does not list every layer");
    size_t l = 0;
    for (auto t : types) {
      std::string_view kind;
      if (t.get_string().get(kind)) bad_config("'layer_types' holds a non-string");
      c.local_layers[l++] = kind == "sliding_attention" ? 1 : 0;
    }
  } else {
    c.local_layers = every_nth_layer_global(c.num_layers, get_int(o, "sliding_window_pattern", false, gemma2 ? 2 : 6));
  }
  if (c.sliding_window == 0) c.local_layers.assign(c.local_layers.size(), 0);
  if (!gemma2) c.rope_theta = get_double(o, "rope_theta", 1000000.0);
  c.rope_theta_local = gemma2 ? c.rope_theta : get_double(o, "rope_local_base_freq", 10000.0);
  simdjson::dom::object rp, kind;
  if (!o["rope_parameters"].get_object().get(rp)) {
    if (!rp["full_attention"].get_object().get(kind)) {
      c.rope_theta = get_double(kind, "rope_theta", c.rope_theta);
      std::string_view t;
      if (!kind["rope_type"].get_string().get(t) && t != "default") {
        c.rope_scaling_type = std::string(t);
        c.rope_scaling_factor = get_double(kind, "factor", 1.0);
      }
    }
    if (!rp["sliding_attention"].get_object().get(kind))
      c.rope_theta_local = get_double(kind, "rope_theta", c.rope_theta_local);
  }
  const double scalar = get_double(o, "query_pre_attn_scalar", static_cast<double>(c.head_dim));
  if (!(scalar > 0.0)) bad_config("'query_pre_attn_scalar' must be positive");
  c.attention_scale = 1.0 / std::sqrt(scalar);
  c.final_logit_softcap = get_double(o, "final_logit_softcapping", 0.0);
  c.attn_logit_softcap = get_double(o, "attn_logit_softcapping", 0.0);
  bool tied = true;  // Gemma ties the output to the embedding unless told otherwise
  if (!o["tie_word_embeddings"].get_bool().get(tied))
    c.tie_word_embeddings = tied;
  else
    c.tie_word_embeddings = true;
}

// A list of numbers (LongRoPE's factors); empty when the key is absent.
std::vector<float> get_float_list(simdjson::dom::object& o, const char* key) {
  std::vector<float> out;
  simdjson::dom::array a;
  if (o[key].get_array().get(a)) return out;
  for (auto x : a) {
    double d;
    if (x.get_double().get(d)) {
      int64_t i;
      if (x.get_int64().get(i)) bad_config(std::string("'") + key + "' holds a non-number");
      d = static_cast<double>(i);
    }
    out.push_back(static_cast<float>(d));
  }
  return out;
}

// The object holding RoPE's parameters: transformers 5's rope_parameters, else rope_scaling.
bool rope_object(simdjson::dom::object& o, simdjson::dom::object& rp) {
  return !o["rope_parameters"].get_object().get(rp) || !o["rope_scaling"].get_object().get(rp);
}

// Phi-3: partial rotary, LongRoPE factors with their attention factor (as
// transformers computes it), and a window on every layer when the config has one.
void read_phi3_rope(simdjson::dom::object& o, ModelConfig& c) {
  double fraction = get_double(o, "partial_rotary_factor", 1.0);
  c.rope_original_context = get_int(o, "original_max_position_embeddings", false, c.max_position_embeddings);
  simdjson::dom::object rp;
  if (rope_object(o, rp)) {
    fraction = get_double(rp, "partial_rotary_factor", fraction);
    c.rope_original_context = get_int(rp, "original_max_position_embeddings", false, c.rope_original_context);
    c.rope_long_factors = get_float_list(rp, "long_factor");
    c.rope_short_factors = get_float_list(rp, "short_factor");
  }
  if (!(fraction > 0.0 && fraction <= 1.0)) bad_config("'partial_rotary_factor' must be in (0, 1]");
  c.rope_dims = static_cast<int64_t>(static_cast<double>(c.head_dim) * fraction);
  if (!c.rope_long_factors.empty() || !c.rope_short_factors.empty()) {
    const auto half = static_cast<size_t>(c.rope_dims / 2);
    if (c.rope_long_factors.size() != half || c.rope_short_factors.size() != half)
      bad_config("'long_factor' and 'short_factor' must each hold " + std::to_string(half) + " values");
    if (c.rope_original_context <= 0) bad_config("LongRoPE needs 'original_max_position_embeddings'");
    double factor = static_cast<double>(c.max_position_embeddings) / static_cast<double>(c.rope_original_context);
    factor = get_double(rp, "factor", factor);
    c.rope_attn_factor =
        factor <= 1.0 ? 1.0
                      : std::sqrt(1.0 + std::log(factor) / std::log(static_cast<double>(c.rope_original_context)));
    c.rope_attn_factor = get_double(rp, "attention_factor", c.rope_attn_factor);
    c.rope_scaling_type = "longrope";
  }
  c.sliding_window = get_int(o, "sliding_window", false, 0);
  c.local_layers.assign(static_cast<size_t>(c.num_layers), c.sliding_window > 0 ? 1 : 0);
  c.rope_theta_local = c.rope_theta;
}

// Granite's multipliers; its head size is always hidden / heads (the converter ignores head_dim too).
void read_granite_multipliers(simdjson::dom::object& o, ModelConfig& c) {
  c.head_dim = c.hidden_size / c.num_heads;
  c.embedding_scale = get_double(o, "embedding_multiplier", 1.0);
  c.residual_scale = get_double(o, "residual_multiplier", 1.0);
  c.attention_scale = get_double(o, "attention_multiplier", 0.0);
  const double logits_scaling = get_double(o, "logits_scaling", 1.0);
  if (!(logits_scaling > 0.0)) bad_config("'logits_scaling' must be positive");
  c.logit_scale = 1.0 / logits_scaling;
}

// Command-R: LayerNorm epsilon, logit scale, tied output; q/k LayerNorms (Command R+) are not covered.
void read_cohere(simdjson::dom::object& o, ModelConfig& c) {
  bool qk_norm = false;
  if (!o["use_qk_norm"].get_bool().get(qk_norm) && qk_norm)
    throw Error(ErrorCode::UnsupportedConversion,
                "Command R+'s per-head q/k LayerNorms (use_qk_norm) are not supported yet",
                "Supported: Command-R checkpoints without use_qk_norm");
  c.rms_norm_eps = get_double(o, "layer_norm_eps", 1e-5);
  c.logit_scale = get_double(o, "logit_scale", 0.0625);
  c.max_position_embeddings = get_int(o, "model_max_length", false, c.max_position_embeddings);
  bool tied = true;
  c.tie_word_embeddings = o["tie_word_embeddings"].get_bool().get(tied) ? true : tied;
}

// The experts of Mixtral / Qwen-MoE configs: counts, widths, the shared
// expert and whether the top-k weights are renormalised (Mixtral always).
void read_experts(simdjson::dom::object& o, ModelConfig& c) {
  c.num_experts = get_int(o, "num_local_experts", false, 0);
  if (c.num_experts == 0) c.num_experts = get_int(o, "num_experts", false, 0);
  if (c.num_experts == 0) return;
  c.num_experts_used = get_int(o, "num_experts_per_tok", true);
  if (c.num_experts_used == 0 || c.num_experts_used > c.num_experts)
    bad_config("num_experts_per_tok (" + std::to_string(c.num_experts_used) + ") must be in [1, " +
               std::to_string(c.num_experts) + "]");
  c.expert_intermediate_size = get_int(o, "moe_intermediate_size", false, c.intermediate_size);
  c.shared_expert_intermediate_size = get_int(o, "shared_expert_intermediate_size", false, 0);
  bool norm = false;
  // Mixtral's and Qwen3.5-MoE's routers always renormalise the top-k weights.
  c.expert_weights_norm = c.architecture == "MixtralForCausalLM" || c.arch()->gated_delta_net ||
                          (!o["norm_topk_prob"].get_bool().get(norm) && norm);
  // Qwen-MoE's dense layers between sparse ones: llama.cpp has no such layout for these families.
  simdjson::dom::array dense;
  if (get_int(o, "decoder_sparse_step", false, 1) != 1 ||
      (!o["mlp_only_layers"].get_array().get(dense) && dense.size()))
    throw Error(ErrorCode::UnsupportedConversion,
                "dense FFN layers between the sparse ones (decoder_sparse_step / "
                "mlp_only_layers) are not supported",
                "Supported: checkpoints whose every layer is a mixture of experts");
}

// One number of a list ("time_step_limit": [0.0, {"__float__": "Infinity"}]);
// `def` for anything that is not a plain number (transformers' encoding of inf).
double list_number(simdjson::dom::object& o, const char* key, size_t i, double def) {
  simdjson::dom::array a;
  if (o[key].get_array().get(a) || a.size() <= i) return def;
  double d;
  int64_t n;
  if (!a.at(i).get_double().get(d)) return d;
  if (!a.at(i).get_int64().get(n)) return static_cast<double>(n);
  return def;
}

// Mamba-2's mixer sizes, as llama.cpp's converter reads them: the inner width
// (expand x hidden unless given), heads of head_dim channels, groups sharing
// B and C, the state size and the convolution's taps. No attention, no FFN.
void read_mamba2(simdjson::dom::object& o, ModelConfig& c) {
  bool b = false;
  if (!o["use_bias"].get_bool().get(b) && b)
    throw Error(ErrorCode::UnsupportedConversion, "Mamba-2 projections with biases (use_bias) are not supported",
                "llama.cpp's mamba2 graph has no such biases either");
  c.rms_norm_eps = get_double(o, "layer_norm_epsilon", 1e-5);
  const int64_t expand = get_int(o, "expand", false, 2);
  c.ssm_inner_size = get_int(o, "intermediate_size", false, 0);
  if (c.ssm_inner_size == 0) c.ssm_inner_size = get_int(o, "d_inner", false, expand * c.hidden_size);
  const int64_t head_dim = get_int(o, "head_dim", false, 64);
  if (head_dim == 0 || c.ssm_inner_size % head_dim != 0)
    bad_config("the inner width " + std::to_string(c.ssm_inner_size) + " is not a multiple of head_dim " +
               std::to_string(head_dim));
  c.ssm_heads = c.ssm_inner_size / head_dim;
  if (const int64_t h = get_int(o, "num_heads", false, c.ssm_heads); h != c.ssm_heads)
    bad_config("num_heads " + std::to_string(h) + " x head_dim " + std::to_string(head_dim) +
               " is not the inner width " + std::to_string(c.ssm_inner_size));
  c.ssm_groups = get_int(o, "n_groups", false, 1);
  c.ssm_state_size = get_int(o, "state_size", false, 128);
  c.ssm_conv_kernel = get_int(o, "conv_kernel", false, 4);
  c.ssm_dt_min = list_number(o, "time_step_limit", 0, 0.0);
  c.ssm_dt_max = list_number(o, "time_step_limit", 1, 0.0);
  if (!std::isfinite(c.ssm_dt_max)) c.ssm_dt_max = 0.0;
  c.max_position_embeddings = int64_t{1} << 20;  // no positions: the converter's "arbitrary" context
  c.tie_word_embeddings = !o["tie_word_embeddings"].get_bool().get(b) && b;
}

// Qwen3.5's text model: which layers are linear attention (layer_types, else
// every full_attention_interval-th layer is full attention), the DeltaNet's
// sizes, and partial rotary with its multimodal sections.
void read_qwen35(simdjson::dom::object& o, ModelConfig& c) {
  c.recurrent_layers.assign(static_cast<size_t>(c.num_layers), 0);
  simdjson::dom::array types;
  const bool listed = !o["layer_types"].get_array().get(types);
  if (listed) {
    if (types.size() != c.recurrent_layers.size()) bad_config("'layer_types' does not list every layer");
    size_t l = 0;
    for (auto t : types) {
      std::string_view kind;
      if (t.get_string().get(kind) || (kind != "linear_attention" && kind != "full_attention"))
        bad_config("'layer_types' holds something other than linear_attention / full_attention");
      c.recurrent_layers[l++] = kind == "linear_attention" ? 1 : 0;
    }
  }
  c.full_attention_interval = get_int(o, "full_attention_interval", false, 4);
  if (c.full_attention_interval == 0) bad_config("'full_attention_interval' is 0");
  if (!listed)
    for (size_t l = 0; l < c.recurrent_layers.size(); ++l)
      c.recurrent_layers[l] = (l + 1) % static_cast<size_t>(c.full_attention_interval) != 0;
  c.ssm_conv_kernel = get_int(o, "linear_conv_kernel_dim", false, 4);
  c.ssm_state_size = get_int(o, "linear_key_head_dim", false, 128);
  c.ssm_groups = get_int(o, "linear_num_key_heads", false, 16);
  c.ssm_heads = get_int(o, "linear_num_value_heads", false, 32);
  const int64_t dv = get_int(o, "linear_value_head_dim", false, 128);
  c.ssm_inner_size = dv * c.ssm_heads;
  if (dv != c.ssm_state_size)
    throw Error(ErrorCode::UnsupportedConversion,
                "linear_value_head_dim (" + std::to_string(dv) + ") differs from linear_key_head_dim (" +
                    std::to_string(c.ssm_state_size) + ")",
                "llama.cpp's qwen35 graph needs equal key and value head sizes");
  if (c.ssm_groups == 0 || c.ssm_heads % c.ssm_groups != 0)
    bad_config("linear_num_value_heads must be a multiple of linear_num_key_heads");
  double fraction = get_double(o, "partial_rotary_factor", 0.25);
  simdjson::dom::object rp;
  if (rope_object(o, rp)) {
    fraction = get_double(rp, "partial_rotary_factor", fraction);
    simdjson::dom::array sections;
    if (!rp["mrope_section"].get_array().get(sections))
      for (auto x : sections) {
        int64_t v = 0;
        if (x.get_int64().get(v) || v < 0) bad_config("'mrope_section' holds a non-integer");
        c.rope_sections.push_back(v);
      }
  }
  if (!(fraction > 0.0 && fraction <= 1.0)) bad_config("'partial_rotary_factor' must be in (0, 1]");
  c.rope_dims = static_cast<int64_t>(static_cast<double>(c.head_dim) * fraction);
  if (!c.arch()->grouped_value_heads) {                           // Qwen3.5's multimodal RoPE (Qwen3-Next has none)
    if (c.rope_sections.empty()) c.rope_sections = {11, 11, 10};  // transformers' and the converter's default
    c.rope_sections.resize(4, 0);
  }
  c.nextn_layers = get_int(o, "mtp_num_hidden_layers", false, 0);
  if (c.nextn_layers > 64) bad_config("'mtp_num_hidden_layers' is " + std::to_string(c.nextn_layers));
  bool tied = false;
  c.tie_word_embeddings = !o["tie_word_embeddings"].get_bool().get(tied) && tied;
}

}  // namespace

const ArchitectureInfo* find_architecture_by_hf(std::string_view hf_class) noexcept {
  for (const auto& a : kArchitectures)
    if (a.hf_class == hf_class) return &a;
  return nullptr;
}

std::string supported_architectures() {
  std::string out;
  for (const auto& a : kArchitectures)
    if (a.hf_checkpoints) out += (out.empty() ? "" : ", ") + std::string(a.hf_class);
  return out;
}

bool plain_decoder_block(const ModelConfig& c) noexcept {
  const ArchitectureInfo* a = c.arch();
  return a && a->pre_norms && !a->post_norms && !a->gelu && !a->scaled_embedding && !a->layer_norm &&
         !a->parallel_block && !a->fused_projections && !a->qk_norm_whole && c.sliding_window == 0 &&
         c.final_logit_softcap == 0.0 && c.attn_logit_softcap == 0.0 && c.attention_scale == 0.0 &&
         c.embedding_scale == 1.0 && c.residual_scale == 1.0 && c.logit_scale == 1.0 && c.rotary_dims() == c.head_dim &&
         c.rope_long_factors.empty() && c.rope_short_factors.empty() && !c.is_moe() && !c.is_ssm();
}

const ArchitectureInfo* find_architecture_by_gguf(std::string_view gguf_arch) noexcept {
  for (const auto& a : kArchitectures)
    if (a.gguf_arch == gguf_arch) return &a;
  return nullptr;
}

ModelConfig parse_hf_config(std::string_view json_text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json_text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    bad_config(std::string("not valid JSON: ") + simdjson::error_message(err));
  simdjson::dom::object o;
  if (root.get_object().get(o)) bad_config("top level is not an object");

  ModelConfig c;
  simdjson::dom::array archs;
  if (o["architectures"].get_array().get(archs) || archs.size() == 0) bad_config("missing 'architectures' list");
  std::string_view arch;
  if ((*archs.begin()).get_string().get(arch)) bad_config("'architectures' holds a non-string");
  c.architecture = std::string(arch);
  const ArchitectureInfo* known = find_architecture_by_hf(c.architecture);
  if (!known || !known->hf_checkpoints)
    throw Error(ErrorCode::UnsupportedConversion,
                "architecture '" + c.architecture + "' is not supported" +
                    (known ? " as an HF checkpoint (its GGUF files are)" : ""),
                "Supported: " + supported_architectures());
  // A multimodal class read for its text model: the keys below come from text_config.
  simdjson::dom::object text;
  bool top_tied = false;
  const bool top_tie_given = !o["tie_word_embeddings"].get_bool().get(top_tied);
  if (known->multimodal) {
    if (o["text_config"].get_object().get(text)) bad_config("a multimodal config.json without 'text_config'");
    o = text;
  }
  std::string_view s;
  if (!o["model_type"].get_string().get(s)) c.model_type = std::string(s);
  if (!o["torch_dtype"].get_string().get(s) || !o["dtype"].get_string().get(s))  // "dtype": transformers >= 4.56
    c.torch_dtype = std::string(s);

  c.hidden_size = get_int(o, "hidden_size", true);
  if (known->ssm) {
    c.num_layers = get_int(o, "num_hidden_layers", true);
    c.vocab_size = get_int(o, "vocab_size", true);
    if (c.hidden_size == 0 || c.num_layers == 0 || c.vocab_size == 0)
      bad_config("hidden_size, num_hidden_layers and vocab_size must be positive");
    read_mamba2(o, c);
    c.bos_token_id = get_token_id(o, "bos_token_id");
    c.eos_token_id = get_token_id(o, "eos_token_id");
    c.pad_token_id = get_token_id(o, "pad_token_id");
    return c;
  }
  // (a mixture of experts may give only its experts' width: Qwen3.5-MoE)
  simdjson::dom::element experts_key;
  const bool has_experts = !o["num_experts"].get(experts_key) || !o["num_local_experts"].get(experts_key);
  c.intermediate_size = get_int(o, "intermediate_size", !has_experts, 0);
  c.num_layers = get_int(o, "num_hidden_layers", true);
  c.num_heads = get_int(o, "num_attention_heads", true);
  c.num_kv_heads = get_int(o, "num_key_value_heads", false, c.num_heads);
  c.vocab_size = get_int(o, "vocab_size", true);
  c.max_position_embeddings = get_int(o, "max_position_embeddings", false, 2048);
  if (c.num_heads == 0 || c.hidden_size == 0 || c.num_layers == 0 || c.vocab_size == 0)
    bad_config("hidden_size, num_hidden_layers, num_attention_heads and vocab_size must be positive");
  c.head_dim = get_int(o, "head_dim", false, c.hidden_size / c.num_heads);
  if (c.num_kv_heads == 0 || c.num_heads % c.num_kv_heads != 0)
    bad_config("num_attention_heads must be a multiple of num_key_value_heads");
  c.rms_norm_eps = get_double(o, "rms_norm_eps", 1e-6);
  c.rope_theta = get_double(o, "rope_theta", 10000.0);
  bool b;
  if (!o["tie_word_embeddings"].get_bool().get(b)) c.tie_word_embeddings = b;
  if (!o["attention_bias"].get_bool().get(b)) c.attention_bias = b;
  if (find_architecture_by_hf(c.architecture)->qkv_bias) c.attention_bias = true;
  simdjson::dom::object rs;
  bool scaled = false;
  simdjson::dom::element theta;
  // transformers 5 writes rope_theta and the scaling into one rope_parameters object
  // (Gemma's holds one such object per attention kind: read_gemma_layout).
  if (!o["rope_parameters"].get_object().get(rs) && !rs["rope_theta"].get(theta)) {
    c.rope_theta = get_double(rs, "rope_theta", c.rope_theta);
    std::string_view t;
    scaled = !rs["rope_type"].get_string().get(t) && t != "default";
  } else {
    scaled = !o["rope_scaling"].get_object().get(rs);
  }
  if (scaled) {
    std::string_view t;
    if (!rs["rope_type"].get_string().get(t) || !rs["type"].get_string().get(t)) c.rope_scaling_type = std::string(t);
    c.rope_scaling_factor = get_double(rs, "factor", 1.0);
    c.rope_original_context = get_int(rs, "original_max_position_embeddings", false, 0);
    c.rope_low_freq_factor = get_double(rs, "low_freq_factor", 1.0);
    c.rope_high_freq_factor = get_double(rs, "high_freq_factor", 4.0);
  }
  if (known->gemma_layout) read_gemma_layout(o, c);
  if (known->fused_projections) read_phi3_rope(o, c);
  if (known->multipliers) read_granite_multipliers(o, c);
  if (known->layer_norm) read_cohere(o, c);
  if (known->gated_delta_net) read_qwen35(o, c);
  read_experts(o, c);
  if (c.intermediate_size == 0) c.intermediate_size = c.expert_intermediate_size;
  simdjson::dom::element tied_elem;
  if (known->multimodal && o["tie_word_embeddings"].get(tied_elem) && top_tie_given) c.tie_word_embeddings = top_tied;
  simdjson::dom::element qc;
  if (!o["quantization_config"].get(qc) && !qc.is_null()) c.quantization_config = simdjson::to_string(qc);
  c.bos_token_id = get_token_id(o, "bos_token_id");
  c.eos_token_id = get_token_id(o, "eos_token_id");
  c.pad_token_id = get_token_id(o, "pad_token_id");
  return c;
}

std::vector<uint8_t> every_nth_layer_global(int64_t n_layers, int64_t n) {
  std::vector<uint8_t> local(static_cast<size_t>(std::max<int64_t>(n_layers, 0)));
  for (size_t l = 0; l < local.size(); ++l) local[l] = n <= 0 || static_cast<int64_t>(l) % n < n - 1 ? 1 : 0;
  return local;
}

std::vector<float> llama3_rope_factors(const ModelConfig& cfg) {
  if (cfg.rope_scaling_type != "llama3" || cfg.head_dim <= 0) return {};
  constexpr double kPi = 3.14159265358979323846;
  const double old_ctx = cfg.rope_original_context > 0 ? static_cast<double>(cfg.rope_original_context) : 8192.0;
  const double low_wavelen = old_ctx / cfg.rope_low_freq_factor, high_wavelen = old_ctx / cfg.rope_high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < cfg.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(cfg.rope_theta, static_cast<double>(i) / static_cast<double>(cfg.head_dim));
    const double wavelen = 2 * kPi / freq;
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(cfg.rope_scaling_factor));
    } else {
      const double smooth =
          (old_ctx / wavelen - cfg.rope_low_freq_factor) / (cfg.rope_high_freq_factor - cfg.rope_low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / cfg.rope_scaling_factor + smooth)));
    }
  }
  return factors;
}

ModelConfig describe_hf_config(std::string_view json_text) {
  ModelConfig c;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json_text);
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(padded).get(root) || root.get_object().get(o)) return c;
  simdjson::dom::array archs;
  std::string_view s;
  if (!o["architectures"].get_array().get(archs) && archs.size() > 0 && !(*archs.begin()).get_string().get(s))
    c.architecture = std::string(s);
  if (!o["model_type"].get_string().get(s)) c.model_type = std::string(s);
  if (!o["torch_dtype"].get_string().get(s) || !o["dtype"].get_string().get(s)) c.torch_dtype = std::string(s);
  auto number = [&](const char* key) -> int64_t {
    try {
      return get_int(o, key, false, 0);
    } catch (const Error&) {  // a malformed value: reported as unknown (0)
      return 0;
    }
  };
  c.hidden_size = number("hidden_size");
  c.intermediate_size = number("intermediate_size");
  c.num_layers = number("num_hidden_layers");
  c.num_heads = number("num_attention_heads");
  c.num_kv_heads = number("num_key_value_heads");
  if (c.num_kv_heads == 0) c.num_kv_heads = c.num_heads;
  c.vocab_size = number("vocab_size");
  return c;
}

ModelConfig load_hf_config(const std::filesystem::path& config_json) {
  std::error_code ec;
  if (!std::filesystem::exists(config_json, ec))
    throw Error(ErrorCode::ModelNotFound, "cannot read '" + config_json.string() + "'",
                "A Hugging Face checkpoint directory needs a config.json");
  return parse_hf_config(read_whole_file(config_json, ErrorCode::ValidationFailed, "config.json", 64u << 20));
}

}  // namespace libquant::model
