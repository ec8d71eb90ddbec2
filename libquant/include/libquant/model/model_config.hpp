#pragma once
// Hyper-parameters of a decoder-only checkpoint, read from an HF config.json or
// from GGUF metadata, plus the architecture table that says how each family
// is named and laid out in GGUF.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/export.hpp"

namespace libquant::model {

struct ArchitectureInfo {
  std::string_view hf_class;       // "LlamaForCausalLM"
  std::string_view gguf_arch;      // "llama"
  bool permute_qk;                 // llama.cpp's converter permutes Q/K rows for this family
  bool qkv_bias;                   // Qwen2
  bool qk_norm;                    // Qwen3, Gemma 3
  bool hf_checkpoints = true;      // HF config.json + safetensors are read and converted (else GGUF files only)
  bool post_norms = false;         // norms on the attention and FFN outputs (post_attention_norm, post_ffw_norm)
  bool gelu = false;               // GeGLU (GELU, tanh approximation) instead of SwiGLU
  bool scaled_embedding = false;   // embeddings times sqrt(hidden_size) (Gemma)
  bool unit_offset_norms = false;  // HF norm weights hold w, the model scales by 1 + w (Gemma; GGUF stores 1 + w)
  bool gemma_layout = false;       // Gemma's config keys, GGUF attention keys and SentencePiece flags
  bool pre_norms = true;           // norms on the attention and FFN inputs (OLMo 2 has none)
  bool qk_norm_whole = false;      // q/k norms span all heads at once (OLMo 2), not one head
  bool layer_norm = false;         // mean-centred LayerNorm without bias instead of RMSNorm (Command-R)
  bool parallel_block = false;     // attention and FFN read one normed input, both add to the residual (Command-R)
  bool interleaved_rope = false;   // HF itself rotates adjacent pairs, as llama.cpp's NORM RoPE (Command-R)
  bool fused_projections = false;  // one Q|K|V weight (attn_qkv) and one gate|up weight (ffn_up) (Phi-3)
  bool multipliers = false;        // embedding / residual / attention / logit multipliers in the config (Granite)
  bool ssm = false;                // every layer a Mamba-2 state-space mixer: no attention, no FFN (ModelConfig::ssm_*)
  // Qwen3.5: gated-DeltaNet linear attention in the layers ModelConfig::recurrent_layers marks, full
  // attention elsewhere, each followed by the FFN; (1 + w) norms except the DeltaNet's output norm.
  bool gated_delta_net = false;
  bool attention_gate = false;  // Q projection twice as wide: per head [query | gate], output * sigmoid(gate)
  // Qwen3-Next: GGUF keeps HF's value-head order (grouped by key head), beta|alpha in one projection
  // (ssm_ba) and Q|K|V|Z split from HF's in_proj_qkvz into attn_qkv and attn_gate.
  bool grouped_value_heads = false;
  // A multimodal checkpoint read for its text model: config.json keeps that model's keys under text_config,
  // its tensors live under model.language_model., the vision tower's (model.visual.) are not converted.
  bool multimodal = false;
};

// nullptr if unsupported. Known: Llama, Mistral, Qwen2, Qwen3, Gemma 2, Gemma 3, OLMo 2, Phi-3, Granite,
// Command-R, the mixture-of-experts Mixtral, Qwen2-MoE and Qwen3-MoE, the state-space Mamba-2, and the
// hybrid Qwen3.5 (gated DeltaNet and gated attention).
LIBQUANT_API const ArchitectureInfo* find_architecture_by_hf(std::string_view hf_class) noexcept;
LIBQUANT_API const ArchitectureInfo* find_architecture_by_gguf(std::string_view gguf_arch) noexcept;
// The HF classes whose checkpoints are read, comma-separated (for messages).
LIBQUANT_API std::string supported_architectures();

struct ModelConfig {
  std::string architecture;  // HF class name
  std::string model_type;    // HF model_type ("llama")
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // defaults to hidden_size / num_heads
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::optional<std::string> rope_scaling_type;
  double rope_scaling_factor = 1.0;
  int64_t rope_original_context = 0;
  double rope_low_freq_factor = 1.0, rope_high_freq_factor = 4.0;  // "llama3" scaling (Llama 3.1+)
  bool tie_word_embeddings = false;
  // Local (sliding-window) attention: local_layers[l] != 0 for the layers that
  // see only the last `sliding_window` positions, with their own RoPE base.
  int64_t sliding_window = 0;
  std::vector<uint8_t> local_layers;
  double rope_theta_local = 10000.0;
  double attention_scale = 0.0;      // query scale (0: 1/sqrt(head_dim))
  double final_logit_softcap = 0.0;  // logits = c * tanh(logits / c) when > 0
  double attn_logit_softcap = 0.0;   // the same on the attention scores (Gemma 2)
  bool is_local_layer(int64_t l) const noexcept {
    return l >= 0 && static_cast<size_t>(l) < local_layers.size() && local_layers[static_cast<size_t>(l)] != 0;
  }
  // Granite's multipliers and Command-R's logit scale (1: none).
  double embedding_scale = 1.0, residual_scale = 1.0, logit_scale = 1.0;
  // Partial rotary embeddings (Phi-4-mini): the first rope_dims of each head rotate (0: all).
  int64_t rope_dims = 0;
  // LongRoPE (Phi-3): per-frequency divisors for sequences up to / beyond
  // rope_original_context, and the factor cos and sin are scaled by.
  std::vector<float> rope_short_factors, rope_long_factors;
  double rope_attn_factor = 1.0;
  int64_t rotary_dims() const noexcept { return rope_dims > 0 ? rope_dims : head_dim; }
  bool attention_bias = false;
  std::string torch_dtype;  // as written in config.json ("float32")
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;
  std::string quantization_config;  // config.json's quantization_config as JSON text ("" when absent)
  // Mixture of experts (num_experts == 0: a dense FFN). Each token's FFN is
  // the weighted sum of its top `num_experts_used` experts by router softmax
  // (the weights renormalised to sum 1 when expert_weights_norm), plus, where
  // the family has one, a shared expert scaled by sigmoid(its gate).
  int64_t num_experts = 0, num_experts_used = 0;
  int64_t expert_intermediate_size = 0;         // one expert's FFN width
  int64_t shared_expert_intermediate_size = 0;  // 0: no shared expert
  bool expert_weights_norm = false;
  bool is_moe() const noexcept { return num_experts > 0; }
  // State-space (Mamba-2) layers mix tokens by a selective scan instead of
  // attention: ssm_heads heads of ssm_inner_size / ssm_heads channels, each
  // with a state of ssm_state_size per channel; the heads of one of the
  // ssm_groups groups share its B and C projections. A causal depthwise
  // convolution of ssm_conv_kernel taps precedes the scan. The time step,
  // softplus(dt + dt_bias), is clamped to [ssm_dt_min, ssm_dt_max]
  // (transformers' time_step_limit; llama.cpp applies none).
  // Qwen3.5's gated DeltaNet reuses these as llama.cpp does: ssm_heads value heads of
  // ssm_inner_size / ssm_heads, ssm_groups key heads of ssm_state_size.
  int64_t ssm_conv_kernel = 0, ssm_inner_size = 0, ssm_state_size = 0, ssm_heads = 0, ssm_groups = 0;
  double ssm_dt_min = 0.0, ssm_dt_max = 0.0;  // 0 / 0: no clamp
  bool is_ssm() const noexcept { return ssm_inner_size > 0; }
  // Hybrids: recurrent_layers[l] != 0 for the linear-attention layers (empty: none).
  std::vector<uint8_t> recurrent_layers;
  bool is_recurrent_layer(int64_t l) const noexcept {
    return l >= 0 && static_cast<size_t>(l) < recurrent_layers.size() && recurrent_layers[static_cast<size_t>(l)] != 0;
  }
  int64_t full_attention_interval = 0;
  // Multi-token-prediction blocks (Qwen3.5's mtp.*): GGUF stores them as blocks num_layers ..
  // num_layers + nextn_layers - 1 after the model's own; the forward pass does not run them.
  int64_t nextn_layers = 0;
  int64_t total_blocks() const noexcept {
    return num_layers + nextn_layers;
  }  // Qwen3.5's config key, kept for GGUF (the layers are in recurrent_layers)
  // Multimodal RoPE sections (Qwen3.5 writes them; text positions make them plain RoPE).
  std::vector<int64_t> rope_sections;
  int64_t ssm_head_dim() const noexcept { return ssm_heads > 0 ? ssm_inner_size / ssm_heads : 0; }
  // The channels of the convolution: x, then B and C of every group.
  int64_t ssm_conv_channels() const noexcept { return ssm_inner_size + 2 * ssm_groups * ssm_state_size; }

  const ArchitectureInfo* arch() const noexcept { return find_architecture_by_hf(architecture); }
};

// True when a layer is the Llama block (pre-RMSNorm, SwiGLU, full RoPE, no
// multipliers, windows, caps or experts; Qwen's biases and q/k norms allowed): what
// llama.cpp-exact numerics, SmoothQuant's HF output and block matching cover.
LIBQUANT_API bool plain_decoder_block(const ModelConfig& cfg) noexcept;

// Local-attention flags when every n-th layer is global and the others local
// (n = 0: all local), as llama.cpp's and transformers' pattern keys mean it.
LIBQUANT_API std::vector<uint8_t> every_nth_layer_global(int64_t n_layers, int64_t n);

// Per-dimension RoPE frequency divisors of "llama3" scaling (head_dim/2 values),
// as llama.cpp stores them in `rope_freqs.weight`; empty for other configs.
LIBQUANT_API std::vector<float> llama3_rope_factors(const ModelConfig& cfg);

// Parses config.json; throws Error(ValidationFailed) for malformed JSON or
// missing required keys, Error(UnsupportedConversion) for unknown families.
LIBQUANT_API ModelConfig parse_hf_config(std::string_view json_text);
LIBQUANT_API ModelConfig load_hf_config(const std::filesystem::path& config_json);
// What a config.json says about any family, known or not (for `info`): the
// architecture name and the common sizes, 0 where absent or malformed; never
// throws for the content.
LIBQUANT_API ModelConfig describe_hf_config(std::string_view json_text);
// A config.json (keys sorted, indent 2) that transformers loads as this
// configuration: for checkpoints made from GGUF files, which carry none.
LIBQUANT_API std::string hf_config_json(const ModelConfig& cfg);

}  // namespace libquant::model
