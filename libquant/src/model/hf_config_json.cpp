// config.json for checkpoints made from GGUF files (which carry none): the
// keys transformers reads for each family, in sorted order as it writes them.
#include <cmath>
#include <functional>
#include <map>

#include "libquant/core/json_writer.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::model {

namespace {

using Fields = std::map<std::string, std::function<void(JsonWriter&)>>;

template <typename T>
void set(Fields& f, const std::string& key, T v) {
  f[key] = [v](JsonWriter& w) { w.value(v); };
}

void set_id(Fields& f, const std::string& key, const std::optional<int64_t>& id) {
  f[key] = [id](JsonWriter& w) {
    if (id) w.value(*id);
    else w.null();
  };
}

void llama_fields(const ModelConfig& c, Fields& f) {
  set(f, "hidden_act", "silu");
  set(f, "mlp_bias", false);
  set(f, "rope_theta", c.rope_theta);
  f["rope_scaling"] = [&c](JsonWriter& w) {
    if (!c.rope_scaling_type) return void(w.null());
    w.begin_object().field("factor", c.rope_scaling_factor);
    if (*c.rope_scaling_type == "llama3")
      w.field("high_freq_factor", c.rope_high_freq_factor).field("low_freq_factor", c.rope_low_freq_factor)
          .field("original_max_position_embeddings", c.rope_original_context);
    w.field("rope_type", *c.rope_scaling_type).end_object();
  };
}

// Gemma 2 / 3: GELU-tanh, the query scalar, local layers with their window and
// RoPE bases (transformers 5's rope_parameters and the older keys), soft-caps.
void gemma_fields(const ModelConfig& c, Fields& f) {
  const bool gemma3 = c.architecture == "Gemma3ForCausalLM";
  set(f, "hidden_activation", "gelu_pytorch_tanh");
  const double scale = c.attention_scale > 0 ? c.attention_scale : 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  set(f, "query_pre_attn_scalar", static_cast<int64_t>(std::llround(1.0 / (scale * scale))));
  set(f, "sliding_window", c.sliding_window > 0 ? c.sliding_window : c.max_position_embeddings);
  f["layer_types"] = [&c](JsonWriter& w) {
    w.begin_array();
    for (int64_t l = 0; l < c.num_layers; ++l) w.value(c.is_local_layer(l) ? "sliding_attention" : "full_attention");
    w.end_array();
  };
  auto cap = [](double v) {
    return [v](JsonWriter& w) {
      if (v > 0) w.value(v);
      else w.null();
    };
  };
  f["attn_logit_softcapping"] = cap(c.attn_logit_softcap);
  f["final_logit_softcapping"] = cap(c.final_logit_softcap);
  set(f, "rope_theta", c.rope_theta);
  if (gemma3) {
    set(f, "rope_local_base_freq", c.rope_theta_local);
    f["rope_parameters"] = [&c](JsonWriter& w) {
      w.begin_object();
      w.key("full_attention").begin_object().field("rope_theta", c.rope_theta).field("rope_type", "default").end_object();
      w.key("sliding_attention").begin_object().field("rope_theta", c.rope_theta_local).field("rope_type", "default");
      w.end_object().end_object();
    };
  }
}

}  // namespace

std::string hf_config_json(const ModelConfig& c) {
  const ArchitectureInfo* arch = c.arch();
  const bool gemma = arch && arch->gemma_layout;
  Fields f;
  f["architectures"] = [&c](JsonWriter& w) { w.begin_array().value(c.architecture).end_array(); };
  set(f, "attention_bias", c.attention_bias);
  set(f, "attention_dropout", 0.0);
  set_id(f, "bos_token_id", c.bos_token_id);
  set_id(f, "eos_token_id", c.eos_token_id);
  set_id(f, "pad_token_id", c.pad_token_id);
  set(f, "head_dim", c.head_dim);
  set(f, "hidden_size", c.hidden_size);
  set(f, "initializer_range", 0.02);
  set(f, "intermediate_size", c.intermediate_size);
  set(f, "max_position_embeddings", c.max_position_embeddings);
  std::string type = c.model_type.empty() ? std::string("llama") : c.model_type;
  if (type == "gemma3") type = "gemma3_text";  // the GGUF architecture name is not transformers' text-only type
  set(f, "model_type", type);
  set(f, "num_attention_heads", c.num_heads);
  set(f, "num_hidden_layers", c.num_layers);
  set(f, "num_key_value_heads", c.num_kv_heads);
  set(f, "rms_norm_eps", c.rms_norm_eps);
  set(f, "tie_word_embeddings", c.tie_word_embeddings);
  set(f, "torch_dtype", c.torch_dtype.empty() ? std::string("float32") : c.torch_dtype);
  set(f, "use_cache", true);
  set(f, "vocab_size", c.vocab_size);
  if (gemma) gemma_fields(c, f);
  else llama_fields(c, f);
  JsonWriter w(2);
  w.begin_object();
  for (const auto& [key, write] : f) {
    w.key(key);
    write(w);
  }
  w.end_object();
  return w.str() + "\n";
}

}  // namespace libquant::model
