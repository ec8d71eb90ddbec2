// config.json for checkpoints made from GGUF files (which carry none): the
// keys transformers reads for each family, in sorted order as it writes them.
// Keys a family does not know are ignored by transformers (e.g. Llama's
// mlp_bias for OLMo 2).
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
    if (id)
      w.value(*id);
    else
      w.null();
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
      w.field("high_freq_factor", c.rope_high_freq_factor)
          .field("low_freq_factor", c.rope_low_freq_factor)
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
      if (v > 0)
        w.value(v);
      else
        w.null();
    };
  };
  f["attn_logit_softcapping"] = cap(c.attn_logit_softcap);
  f["final_logit_softcapping"] = cap(c.final_logit_softcap);
  set(f, "rope_theta", c.rope_theta);
  if (gemma3) {
    set(f, "rope_local_base_freq", c.rope_theta_local);
    f["rope_parameters"] = [&c](JsonWriter& w) {
      w.begin_object();
      w.key("full_attention")
          .begin_object()
          .field("rope_theta", c.rope_theta)
          .field("rope_type", "default")
          .end_object();
      w.key("sliding_attention").begin_object().field("rope_theta", c.rope_theta_local).field("rope_type", "default");
      w.end_object().end_object();
    };
  }
}

// Phi-3: partial rotary and LongRoPE inside rope_parameters (transformers 5) and the older top-level keys.
void phi3_fields(const ModelConfig& c, Fields& f) {
  set(f, "hidden_act", "silu");
  set(f, "original_max_position_embeddings",
      c.rope_original_context > 0 ? c.rope_original_context : c.max_position_embeddings);
  set(f, "partial_rotary_factor", static_cast<double>(c.rotary_dims()) / static_cast<double>(c.head_dim));
  set(f, "rope_theta", c.rope_theta);
  f["sliding_window"] = [&c](JsonWriter& w) {
    if (c.sliding_window > 0)
      w.value(c.sliding_window);
    else
      w.null();
  };
  f["rope_parameters"] = [&c](JsonWriter& w) {
    const bool longrope = !c.rope_long_factors.empty();
    w.begin_object();
    if (longrope) {
      w.field("attention_factor", c.rope_attn_factor);  // as the GGUF stores it, not re-derived
      w.key("long_factor").begin_array();
      for (float v : c.rope_long_factors) w.value(v);
      w.end_array();
      w.field("original_max_position_embeddings", c.rope_original_context);
    }
    w.field("partial_rotary_factor", static_cast<double>(c.rotary_dims()) / static_cast<double>(c.head_dim));
    w.field("rope_theta", c.rope_theta).field("rope_type", longrope ? "longrope" : "default");
    if (longrope) {
      w.key("short_factor").begin_array();
      for (float v : c.rope_short_factors) w.value(v);
      w.end_array();
    }
    w.end_object();
  };
}

// Granite's multipliers (logits_scaling divides the logits), Command-R's LayerNorm and logit scale.
void granite_or_cohere_fields(const ModelConfig& c, const ArchitectureInfo& arch, Fields& f) {
  set(f, "hidden_act", "silu");
  set(f, "rope_theta", c.rope_theta);
  if (arch.multipliers) {
    set(f, "embedding_multiplier", c.embedding_scale);
    set(f, "residual_multiplier", c.residual_scale);
    set(f, "attention_multiplier",
        c.attention_scale > 0 ? c.attention_scale : 1.0 / std::sqrt(static_cast<double>(c.head_dim)));
    set(f, "logits_scaling", 1.0 / c.logit_scale);
    set(f, "mlp_bias", false);
  } else {
    set(f, "layer_norm_eps", c.rms_norm_eps);
    set(f, "logit_scale", c.logit_scale);
    set(f, "use_qk_norm", false);
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
  // GGUF architecture names that are not transformers' model types.
  if (type == "gemma3") type = "gemma3_text";
  if (type == "command-r") type = "cohere";
  set(f, "model_type", type);
  set(f, "num_attention_heads", c.num_heads);
  set(f, "num_hidden_layers", c.num_layers);
  set(f, "num_key_value_heads", c.num_kv_heads);
  if (!arch || !arch->layer_norm) set(f, "rms_norm_eps", c.rms_norm_eps);  // Command-R: layer_norm_eps
  set(f, "tie_word_embeddings", c.tie_word_embeddings);
  set(f, "torch_dtype", c.torch_dtype.empty() ? std::string("float32") : c.torch_dtype);
  set(f, "use_cache", true);
  set(f, "vocab_size", c.vocab_size);
  if (gemma)
    gemma_fields(c, f);
  else if (arch && arch->fused_projections)
    phi3_fields(c, f);
  else if (arch && (arch->multipliers || arch->layer_norm))
    granite_or_cohere_fields(c, *arch, f);
  else
    llama_fields(c, f);  // Llama, Mistral, Qwen2/3, OLMo 2
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
