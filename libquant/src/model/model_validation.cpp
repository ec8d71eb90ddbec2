#include "libquant/model/model_validation.hpp"

#include <cmath>
#include <limits>
#include <map>

#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::model {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid model: " + what,
              "The checkpoint's configuration and tensors disagree; re-export or re-download it");
}

// Every dimension the forward pass multiplies stays far below 2^53, so
// products of two of them are exact in int64 and in double.
constexpr int64_t kMaxDim = int64_t{1} << 26;
constexpr int64_t kMaxLayers = 1 << 16;

int64_t checked_product(int64_t a, int64_t b, const char* what) {
  if (a > 0 && b > std::numeric_limits<int64_t>::max() / a) invalid(std::string(what) + " overflows");
  return a * b;
}

void require_range(int64_t v, int64_t lo, int64_t hi, const char* what) {
  if (v < lo || v > hi)
    invalid(std::string(what) + " is " + std::to_string(v) + " (must be in [" + std::to_string(lo) + ", " +
            std::to_string(hi) + "])");
}

void require_positive_finite(double v, const char* what, bool zero_ok = false) {
  if (!std::isfinite(v) || v < 0 || (!zero_ok && v == 0))
    invalid(std::string(what) + " is " + std::to_string(v) + " (must be a finite " +
            (zero_ok ? "non-negative" : "positive") + " number)");
}

// A mixture-of-experts FFN: the router, the stacked experts and the shared expert with its gate.
void append_expert_tensors(const ModelConfig& c, const std::string& p, std::vector<ExpectedTensor>& out) {
  const int64_t d = c.hidden_size, e = c.num_experts, eff = c.expert_intermediate_size;
  const int64_t sff = c.shared_expert_intermediate_size;
  out.push_back({p + "ffn_gate_inp.weight", Shape{e, d}});
  out.push_back({p + "ffn_gate_exps.weight", Shape{e, eff, d}});
  out.push_back({p + "ffn_up_exps.weight", Shape{e, eff, d}});
  out.push_back({p + "ffn_down_exps.weight", Shape{e, d, eff}});
  if (sff == 0) return;
  out.push_back({p + "ffn_gate_shexp.weight", Shape{sff, d}});
  out.push_back({p + "ffn_up_shexp.weight", Shape{sff, d}});
  out.push_back({p + "ffn_down_shexp.weight", Shape{d, sff}});
  out.push_back({p + "ffn_gate_inp_shexp.weight", Shape{1, d}});
}

// The expected shape, or, for the expert tensors whose readers take either,
// it without its leading size-1 dimensions: GGUF writers that store
// ggml_n_dims dimensions (llama-quantize) write Qwen2-MoE's [1, n] shared
// gate as [n], and a one-expert stack as a matrix. Never the other way: a
// file may not add dimensions.
bool same_stored_shape(const std::string& name, const Shape& stored, const Shape& expected) {
  if (stored == expected) return true;
  const bool either = name.ends_with(".ffn_gate_inp.weight") || name.ends_with(".ffn_gate_inp_shexp.weight") ||
                      name.ends_with("_exps.weight") || name.ends_with(".ssm_norm.weight");
  return either && stored == expected.ggml_stored();
}

// Mamba-2 sizes: the mixer's widths, positive and small enough that every
// product the scan forms stays exact; heads split evenly into groups.
void validate_ssm(const ModelConfig& c) {
  require_range(c.ssm_inner_size, 1, kMaxDim, "the SSM inner width (ssm.inner_size)");
  require_range(c.ssm_heads, 1, c.ssm_inner_size, "the SSM head count (ssm.time_step_rank)");
  if (c.ssm_inner_size % c.ssm_heads != 0)
    invalid("the SSM inner width " + std::to_string(c.ssm_inner_size) + " does not split into " +
            std::to_string(c.ssm_heads) + " heads");
  require_range(c.ssm_groups, 1, c.ssm_heads, "the SSM group count (ssm.group_count)");
  if (c.ssm_heads % c.ssm_groups != 0)
    invalid("the SSM head count " + std::to_string(c.ssm_heads) + " is not a multiple of the group count " +
            std::to_string(c.ssm_groups));
  require_range(c.ssm_state_size, 1, 1 << 16, "the SSM state size (ssm.state_size)");
  require_range(c.ssm_conv_kernel, 1, 1 << 10, "the SSM convolution width (ssm.conv_kernel)");
  if (checked_product(c.ssm_groups, c.ssm_state_size, "groups x state size") > kMaxDim ||
      checked_product(c.ssm_inner_size, c.ssm_state_size, "inner width x state size") > (int64_t{1} << 40))
    invalid("the SSM state is too large");
  require_positive_finite(c.ssm_dt_min, "the time-step minimum", true);
  require_positive_finite(c.ssm_dt_max, "the time-step maximum", true);
}

// A Mamba-2 layer: its input norm and mixer.
void append_ssm_tensors(const ModelConfig& c, const std::string& p, std::vector<ExpectedTensor>& out) {
  const int64_t d = c.hidden_size, di = c.ssm_inner_size, h = c.ssm_heads, conv = c.ssm_conv_channels();
  out.push_back({p + "attn_norm.weight", Shape{d}});
  out.push_back({p + "ssm_in.weight", Shape{di + conv + h, d}});
  out.push_back({p + "ssm_conv1d.weight", Shape{conv, c.ssm_conv_kernel}});
  out.push_back({p + "ssm_conv1d.bias", Shape{conv}, false});
  out.push_back({p + "ssm_dt.bias", Shape{h}});
  out.push_back({p + "ssm_a", Shape{h, 1}});
  out.push_back({p + "ssm_d", Shape{h, 1}});
  out.push_back({p + "ssm_norm.weight", Shape{c.ssm_groups, di / c.ssm_groups}});
  out.push_back({p + "ssm_out.weight", Shape{d, di}});
}

// A Qwen3.5 layer: its two norms, the gated DeltaNet or the gated attention, and the FFN.
void append_qwen35_layer(const ModelConfig& c, int64_t l, const std::string& p, std::vector<ExpectedTensor>& out) {
  const int64_t d = c.hidden_size, hd = c.head_dim, q = c.num_heads * hd, kv = c.num_kv_heads * hd;
  const int64_t nv = c.ssm_heads, dv = c.ssm_head_dim(), conv = c.ssm_conv_channels(), ff = c.intermediate_size;
  out.push_back({p + "attn_norm.weight", Shape{d}});
  out.push_back({p + "post_attention_norm.weight", Shape{d}});
  if (c.is_recurrent_layer(l)) {
    out.push_back({p + "attn_qkv.weight", Shape{conv, d}});
    out.push_back({p + "attn_gate.weight", Shape{nv * dv, d}});
    if (c.arch()->grouped_value_heads) {
      out.push_back({p + "ssm_ba.weight", Shape{2 * nv, d}});
    } else {
      out.push_back({p + "ssm_beta.weight", Shape{nv, d}});
      out.push_back({p + "ssm_alpha.weight", Shape{nv, d}});
    }
    out.push_back({p + "ssm_conv1d.weight", Shape{conv, c.ssm_conv_kernel}});
    out.push_back({p + "ssm_dt.bias", Shape{nv}});
    out.push_back({p + "ssm_a", Shape{nv}});
    out.push_back({p + "ssm_norm.weight", Shape{dv}});
    out.push_back({p + "ssm_out.weight", Shape{d, nv * dv}});
  } else {
    out.push_back({p + "attn_q.weight", Shape{2 * q, d}});
    out.push_back({p + "attn_k.weight", Shape{kv, d}});
    out.push_back({p + "attn_v.weight", Shape{kv, d}});
    out.push_back({p + "attn_output.weight", Shape{d, q}});
    out.push_back({p + "attn_q_norm.weight", Shape{hd}});
    out.push_back({p + "attn_k_norm.weight", Shape{hd}});
  }
  if (c.is_moe()) {
    append_expert_tensors(c, p, out);
  } else {
    out.push_back({p + "ffn_gate.weight", Shape{ff, d}});
    out.push_back({p + "ffn_up.weight", Shape{ff, d}});
    out.push_back({p + "ffn_down.weight", Shape{d, ff}});
  }
  if (l < c.num_layers) return;
  // A multi-token-prediction block: a full-attention layer plus the projection of [embedding | hidden].
  out.push_back({p + "nextn.eh_proj.weight", Shape{d, 2 * d}});
  for (const char* norm : {"nextn.enorm.weight", "nextn.hnorm.weight", "nextn.shared_head_norm.weight"})
    out.push_back({p + norm, Shape{d}});
}

}  // namespace

void check_forward_support(const TensorSource& src, const ModelConfig& cfg) {
  const io::GgufHeader* hp = hf_config(src) ? nullptr : gguf_header(src);
  if (!hp) return;
  const io::GgufHeader& h = *hp;
  const io::GgufValue* archv = h.find("general.architecture");
  if (!archv) return;
  const std::string a = archv->as_string();
  if (const auto* v = h.find(a + ".attention.value_length"); v && v->as_int() != cfg.head_dim)
    throw Error(ErrorCode::UnsupportedConversion, "attention.value_length " + std::to_string(v->as_int()) +
                                                      " differs from key_length " + std::to_string(cfg.head_dim) +
                                                      "; no forward pass for such models");
  if (a == "olmo2" && h.find(a + ".attention.sliding_window"))
    throw Error(ErrorCode::UnsupportedConversion,
                "OLMo 3's local attention (olmo2 with a sliding window) has no forward pass yet");
}

void validate_hyperparameters(const ModelConfig& c) {
  const ArchitectureInfo* arch = c.arch();
  if (!arch)
    throw Error(ErrorCode::UnsupportedConversion, "no forward pass for architecture '" + c.architecture + "'",
                "Supported: " + supported_architectures() + " (other GGUF families can be re-quantized by name)");
  require_range(c.num_layers, 1, kMaxLayers, "the layer count");
  require_range(c.hidden_size, 1, kMaxDim, "hidden_size (embedding_length)");
  if (arch->ssm) {
    require_range(c.vocab_size, 1, kMaxDim, "the vocabulary size");
    require_positive_finite(c.rms_norm_eps, "rms_norm_eps", true);
    return validate_ssm(c);
  }
  require_range(c.intermediate_size, 1, kMaxDim, "intermediate_size (feed_forward_length)");
  require_range(c.num_heads, 1, kMaxDim, "the attention head count");
  require_range(c.num_kv_heads, 1, c.num_heads, "the key/value head count");
  if (c.num_heads % c.num_kv_heads != 0)
    invalid("the head count " + std::to_string(c.num_heads) + " is not a multiple of the key/value head count " +
            std::to_string(c.num_kv_heads));
  require_range(c.head_dim, 2, kMaxDim, "head_dim");
  if (c.head_dim % 2 != 0) invalid("head_dim " + std::to_string(c.head_dim) + " is odd (RoPE rotates pairs)");
  require_range(c.vocab_size, 1, kMaxDim, "the vocabulary size");
  if (checked_product(c.num_heads, c.head_dim, "heads x head_dim") > kMaxDim)
    invalid("heads x head_dim is larger than " + std::to_string(kMaxDim));
  require_positive_finite(c.rms_norm_eps, "rms_norm_eps", true);
  require_positive_finite(c.rope_theta, "rope_theta");
  require_positive_finite(c.rope_scaling_factor, "the RoPE scaling factor");
  // The local-attention layout and soft-caps (Gemma / OLMo families; zero where unused).
  require_range(c.sliding_window, 0, kMaxDim, "the sliding window");
  if (c.sliding_window > 0) require_positive_finite(c.rope_theta_local, "the local RoPE base");
  require_positive_finite(c.attention_scale, "the query scale", true);
  require_positive_finite(c.attn_logit_softcap, "the attention soft-cap", true);
  require_positive_finite(c.final_logit_softcap, "the final logit soft-cap", true);
  // Partial rotary embeddings, LongRoPE and the multipliers (1 / none where unused).
  require_range(c.rotary_dims(), 2, c.head_dim, "the rotary dimension count");
  if (c.rotary_dims() % 2 != 0) invalid("the rotary dimension count " + std::to_string(c.rotary_dims()) + " is odd");
  require_positive_finite(c.rope_attn_factor, "the RoPE attention factor");
  require_positive_finite(c.embedding_scale, "the embedding multiplier");
  require_positive_finite(c.residual_scale, "the residual multiplier");
  require_positive_finite(c.logit_scale, "the logit scale");
  for (const auto* factors : {&c.rope_short_factors, &c.rope_long_factors})
    for (float f : *factors) require_positive_finite(f, "a LongRoPE factor");
  if (c.is_moe()) {
    require_range(c.num_experts, 1, 1 << 16, "the expert count");
    require_range(c.num_experts_used, 1, c.num_experts, "the number of experts used per token");
    require_range(c.expert_intermediate_size, 1, kMaxDim, "the expert FFN width");
    require_range(c.shared_expert_intermediate_size, 0, kMaxDim, "the shared expert FFN width");
  }
  if (arch->gated_delta_net) {
    validate_ssm(c);
    require_range(c.nextn_layers, 0, 64, "the multi-token-prediction block count");
    if (c.recurrent_layers.size() != static_cast<size_t>(c.num_layers))
      invalid("the recurrent-layer flags list " + std::to_string(c.recurrent_layers.size()) + " layers, not " +
              std::to_string(c.num_layers));
  }
  if (c.rope_scaling_type == "llama3") {
    require_positive_finite(c.rope_low_freq_factor, "the RoPE low_freq_factor");
    require_positive_finite(c.rope_high_freq_factor, "the RoPE high_freq_factor");
    if (c.rope_high_freq_factor == c.rope_low_freq_factor) invalid("RoPE low_freq_factor equals high_freq_factor");
  }
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const ArchitectureInfo* arch = c.arch();
  const bool ssm = arch && arch->ssm;  // no attention: its sizes were never validated
  const int64_t d = c.hidden_size, ff = c.intermediate_size, hd = ssm ? 0 : c.head_dim;
  const int64_t q = ssm ? 0 : c.num_heads * hd, kv = ssm ? 0 : c.num_kv_heads * hd;
  std::vector<ExpectedTensor> out = {
      {"token_embd.weight", Shape{c.vocab_size, d}},
      {"output_norm.weight", Shape{d}},
      {"output.weight", Shape{c.vocab_size, d}, !c.tie_word_embeddings},
      {"rope_freqs.weight", Shape{ssm ? 0 : c.rotary_dims() / 2}, false},
      {"rope_factors_long.weight", Shape{ssm ? 0 : c.rotary_dims() / 2}, false},
      {"rope_factors_short.weight", Shape{ssm ? 0 : c.rotary_dims() / 2}, false},
  };
  const bool fused = arch && arch->fused_projections;
  const bool bias = c.attention_bias || (arch && arch->qkv_bias);
  const bool qk_norm = arch && arch->qk_norm;
  for (int64_t l = 0; l < c.total_blocks(); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    if (arch && arch->ssm) {
      append_ssm_tensors(c, p, out);
      continue;
    }
    if (arch && arch->gated_delta_net) {
      append_qwen35_layer(c, l, p, out);
      continue;
    }
    if (!arch || arch->pre_norms) {
      out.push_back({p + "attn_norm.weight", Shape{d}});
      if (!arch || !arch->parallel_block) out.push_back({p + "ffn_norm.weight", Shape{d}});  // Command-R: one norm
    }
    if (fused) {  // Phi-3: Q|K|V and gate|up in one weight each
      out.push_back({p + "attn_qkv.weight", Shape{q + 2 * kv, d}});
      out.push_back({p + "ffn_up.weight", Shape{2 * ff, d}});
    } else {
      out.push_back({p + "attn_q.weight", Shape{q, d}});
      out.push_back({p + "attn_k.weight", Shape{kv, d}});
      out.push_back({p + "attn_v.weight", Shape{kv, d}});
    }
    out.push_back({p + "attn_output.weight", Shape{d, q}});
    if (c.is_moe()) {
      append_expert_tensors(c, p, out);
    } else {
      if (!fused) out.push_back({p + "ffn_gate.weight", Shape{ff, d}});
      if (!fused) out.push_back({p + "ffn_up.weight", Shape{ff, d}});
      out.push_back({p + "ffn_down.weight", Shape{d, ff}});
    }
    out.push_back({p + "attn_q.bias", Shape{q}, bias});
    out.push_back({p + "attn_k.bias", Shape{kv}, bias});
    out.push_back({p + "attn_v.bias", Shape{kv}, bias});
    const bool whole = arch && arch->qk_norm_whole;
    out.push_back({p + "attn_q_norm.weight", Shape{whole ? q : hd}, qk_norm});
    out.push_back({p + "attn_k_norm.weight", Shape{whole ? kv : hd}, qk_norm});
    if (arch && arch->post_norms) {
      out.push_back({p + "post_attention_norm.weight", Shape{d}});
      out.push_back({p + "post_ffw_norm.weight", Shape{d}});
    }
  }
  return out;
}

bool has_known_architecture(const TensorSource& src) {
  if (const ModelConfig* hf = hf_config(src)) return hf->arch() != nullptr;
  const io::GgufHeader* h = gguf_header(src);
  const io::GgufValue* a = h ? h->find("general.architecture") : nullptr;
  return a && a->type() == io::GgufType::String && find_architecture_by_gguf(a->as_string()) != nullptr;
}

ModelConfig validated_config(const TensorSource& src) {
  ModelConfig cfg;
  if (const ModelConfig* hf = hf_config(src)) {
    cfg = *hf;
  } else {
    const io::GgufHeader* gguf = gguf_header(src);
    check(gguf != nullptr, ErrorCode::ValidationFailed, "the model carries no configuration");
    cfg = config_from_gguf(*gguf);
  }
  const SourceTensor* embd = src.find("token_embd.weight");
  if (!embd) invalid("the model has no token embedding (token_embd.weight / model.embed_tokens.weight)");
  if (cfg.vocab_size == 0 && embd->shape.rank() == 2) cfg.vocab_size = embd->shape[0];
  validate_hyperparameters(cfg);
  // Each layer has six weights at least (Phi-3's fused ones): a layer count
  // beyond what the file holds is refused before any per-layer name is built.
  if (static_cast<uint64_t>(cfg.num_layers) * 6 > src.tensors().size())
    invalid("the configuration has " + std::to_string(cfg.num_layers) + " layers but the file holds only " +
            std::to_string(src.tensors().size()) + " tensors");

  std::map<std::string, const ExpectedTensor*, std::less<>> expected;
  const auto table = expected_tensors(cfg);
  for (const auto& e : table) expected.emplace(e.name, &e);
  for (const auto& e : table) {
    const SourceTensor* t = src.find(e.name);
    if (!t) {
      if (e.required) invalid("tensor '" + e.name + "' is missing");
      continue;
    }
    if (!same_stored_shape(e.name, t->shape, e.shape))
      invalid("tensor '" + e.name + "' has shape " + t->shape.to_string() + ", the configuration implies " +
              e.shape.to_string());
  }
  for (const auto& t : src.tensors()) {
    const auto layer = gguf_layer_index(t.name);
    if (layer && *layer >= cfg.total_blocks())
      invalid("tensor '" + t.name + "' belongs to layer " + std::to_string(*layer) + " but the model has " +
              std::to_string(cfg.total_blocks()) + " layers");
    // A weight stored in int8 needs its scale, with one value per output row or one in all.
    if (t.dtype == DType::I8 && t.name.ends_with(".weight")) {
      const std::string scale = t.name + "_scale";
      const SourceTensor* s = src.find(scale);
      if (!s) invalid("int8 tensor '" + t.name + "' has no '" + scale + "'");
      const uint64_t n = s->shape.numel();
      if (n != 1 && n != t.shape.rows())
        invalid("'" + scale + "' holds " + std::to_string(n) + " values for " + std::to_string(t.shape.rows()) +
                " rows");
    }
  }
  return cfg;
}

}  // namespace libquant::model
