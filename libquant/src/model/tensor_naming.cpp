#include "libquant/model/tensor_naming.hpp"

#include <charconv>
#include <cstring>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::model {

namespace {

struct NamePair {
  std::string_view hf;    // suffix after "model.layers.N." (or full name for globals)
  std::string_view gguf;  // suffix after "blk.N."
};

constexpr NamePair kGlobal[] = {
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
};

constexpr NamePair kPerLayer[] = {
    {"input_layernorm", "attn_norm"},
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    // Mixture of experts: the router, and Qwen2-MoE's shared expert with its sigmoid gate.
    {"mlp.gate", "ffn_gate_inp"},
    {"block_sparse_moe.gate", "ffn_gate_inp"},
    {"mlp.shared_expert.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_expert.up_proj", "ffn_up_shexp"},
    {"mlp.shared_expert.down_proj", "ffn_down_shexp"},
    {"mlp.shared_expert_gate", "ffn_gate_inp_shexp"},
};

// One expert's projection, as Qwen-MoE ("mlp.experts.E.gate_proj") and
// Mixtral ("block_sparse_moe.experts.E.w1") name it, and the stacked GGUF tensor it joins.
struct ExpertName {
  std::string_view hf_prefix, hf_proj, gguf;
};
constexpr ExpertName kExperts[] = {
    {"mlp.experts.", "gate_proj", "ffn_gate_exps"},     {"mlp.experts.", "up_proj", "ffn_up_exps"},
    {"mlp.experts.", "down_proj", "ffn_down_exps"},     {"block_sparse_moe.experts.", "w1", "ffn_gate_exps"},
    {"block_sparse_moe.experts.", "w3", "ffn_up_exps"}, {"block_sparse_moe.experts.", "w2", "ffn_down_exps"},
};

// Gemma's four norms per layer: the one after attention keeps HF's
// post_attention_layernorm name, the FFN's input norm is pre_feedforward_layernorm.
constexpr NamePair kSandwichNorms[] = {
    {"post_attention_layernorm", "post_attention_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
};

// Phi-3 keeps its fused projections fused in GGUF: gate|up becomes ffn_up.
constexpr NamePair kFusedProjections[] = {
    {"self_attn.qkv_proj", "attn_qkv"},
    {"mlp.gate_up_proj", "ffn_up"},
};

// Mamba-2 (whole names: A_log, D and dt_bias are parameters of the mixer
// itself). In GGUF ssm_a holds -exp(A_log) (tensor_source.cpp).
constexpr NamePair kMamba2Global[] = {
    {"backbone.embeddings.weight", "token_embd.weight"},
    {"backbone.norm_f.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};
constexpr NamePair kMamba2PerLayer[] = {
    {"norm.weight", "attn_norm.weight"},
    {"mixer.in_proj.weight", "ssm_in.weight"},
    {"mixer.conv1d.weight", "ssm_conv1d.weight"},
    {"mixer.conv1d.bias", "ssm_conv1d.bias"},
    {"mixer.dt_bias", "ssm_dt.bias"},
    {"mixer.A_log", "ssm_a"},
    {"mixer.D", "ssm_d"},
    {"mixer.norm.weight", "ssm_norm.weight"},
    {"mixer.out_proj.weight", "ssm_out.weight"},
};

// Qwen3.5's gated DeltaNet (whole names after "model.layers.N."), and its FFN
// input norm, which llama.cpp calls post_attention_norm. In GGUF ssm_a holds
// -exp(A_log), V heads are reordered and norms hold 1 + w (tensor_source.cpp).
constexpr NamePair kQwen35PerLayer[] = {
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"linear_attn.in_proj_qkv.weight", "attn_qkv.weight"},
    {"linear_attn.in_proj_z.weight", "attn_gate.weight"},
    {"linear_attn.in_proj_b.weight", "ssm_beta.weight"},
    {"linear_attn.in_proj_a.weight", "ssm_alpha.weight"},
    {"linear_attn.in_proj_ba.weight", "ssm_ba.weight"},  // Qwen3-Next: beta | alpha per key head
    {"linear_attn.conv1d.weight", "ssm_conv1d.weight"},
    {"linear_attn.dt_bias", "ssm_dt.bias"},
    {"linear_attn.A_log", "ssm_a"},
    {"linear_attn.norm.weight", "ssm_norm.weight"},
    {"linear_attn.out_proj.weight", "ssm_out.weight"},
    // A multi-token-prediction block's own tensors (hf_mtp_layer_name puts them under model.layers.N.nextn.).
    {"nextn.eh_proj.weight", "nextn.eh_proj.weight"},
    {"nextn.enorm.weight", "nextn.enorm.weight"},
    {"nextn.hnorm.weight", "nextn.hnorm.weight"},
    {"nextn.shared_head_norm.weight", "nextn.shared_head_norm.weight"},
};

// Parameters a module may carry: its weight and bias, and the quantization
// tensors of compressed-tensors checkpoints (kept under the same suffix).
constexpr std::string_view kParams[] = {
    ".weight", ".bias", ".weight_scale", ".weight_zero_point", ".input_scale", ".input_zero_point"};

// Splits "stem.weight" / "stem.bias" / "stem.weight_scale" into (stem, ".weight").
bool split_param(std::string_view name, std::string_view& stem, std::string_view& param) {
  for (std::string_view p : kParams) {
    if (name.size() > p.size() && name.substr(name.size() - p.size()) == p) {
      stem = name.substr(0, name.size() - p.size());
      param = p;
      return true;
    }
  }
  return false;
}

// Parses "<prefix><N>.<rest>"; returns false if the name does not match.
bool parse_layer(std::string_view name, std::string_view prefix, int& layer, std::string_view& rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  const char* end = name.data() + name.size();
  auto [p, ec] = std::from_chars(name.data(), end, layer);
  if (ec != std::errc() || p == name.data() || p == end || *p != '.' || layer < 0) return false;
  rest = std::string_view(p + 1, static_cast<size_t>(end - p - 1));
  return true;
}

}  // namespace

bool is_ignored_hf_tensor(std::string_view hf_name) noexcept {
  // (and a multimodal checkpoint's vision tower: the text model is what is converted)
  return hf_name.find("rotary_emb.inv_freq") != std::string_view::npos || hf_name.starts_with("model.visual.");
}

namespace {
// Whole-name tables (parameters without a .weight / .bias suffix): the global
// names, then the per-layer ones after the layer prefix.
std::optional<std::string> translate_whole(std::string_view name, std::span<const NamePair> global,
                                           std::span<const NamePair> per_layer, std::string_view NamePair::*from,
                                           std::string_view NamePair::*to, std::string_view from_prefix,
                                           std::string_view to_prefix) {
  for (const auto& g : global)
    if (name == g.*from) return std::string(g.*to);
  int layer;
  std::string_view rest;
  if (!parse_layer(name, from_prefix, layer, rest)) return std::nullopt;
  for (const auto& p : per_layer)
    if (rest == p.*from) return std::string(to_prefix) + std::to_string(layer) + "." + std::string(p.*to);
  return std::nullopt;
}

// Translates between the two conventions: `from`/`to` pick the NamePair side,
// `from_prefix`/`to_prefix` the per-layer prefix ("model.layers." / "blk.").
std::optional<std::string> translate(std::string_view name, std::string_view NamePair::*from,
                                     std::string_view NamePair::*to, std::string_view from_prefix,
                                     std::string_view to_prefix, const ArchitectureInfo* arch) {
  std::string_view stem, param;
  if (!split_param(name, stem, param)) return std::nullopt;
  for (const auto& g : kGlobal)
    if (stem == g.*from) return std::string(g.*to) + std::string(param);
  int layer;
  std::string_view rest;
  if (!parse_layer(stem, from_prefix, layer, rest)) return std::nullopt;
  auto name_of = [&](const NamePair& p) {
    return std::string(to_prefix) + std::to_string(layer) + "." + std::string(p.*to) + std::string(param);
  };
  if (arch && arch->post_norms)  // these take precedence over the Llama meaning of the same names
    for (const auto& p : kSandwichNorms)
      if (rest == p.*from) return name_of(p);
  if (arch && arch->fused_projections)
    for (const auto& p : kFusedProjections)
      if (rest == p.*from) return name_of(p);
  for (const auto& p : kPerLayer)
    if (rest == p.*from) return name_of(p);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> hf_mtp_layer_name(std::string_view hf_name, int64_t n_layers) {
  if (!hf_name.starts_with("mtp.")) return std::nullopt;
  const std::string_view rest = hf_name.substr(4);
  int layer;
  std::string_view tail;
  if (parse_layer(rest, "layers.", layer, tail))
    return "model.layers." + std::to_string(n_layers + layer) + "." + std::string(tail);
  constexpr std::pair<std::string_view, std::string_view> kOwn[] = {
      {"fc.weight", "nextn.eh_proj.weight"},
      {"pre_fc_norm_embedding.weight", "nextn.enorm.weight"},
      {"pre_fc_norm_hidden.weight", "nextn.hnorm.weight"},
      {"norm.weight", "nextn.shared_head_norm.weight"},
  };
  for (const auto& [hf, layer_name] : kOwn)
    if (rest == hf) return "model.layers." + std::to_string(n_layers) + "." + std::string(layer_name);
  return std::nullopt;
}

namespace {
// A multimodal wrapper's text-model tensor under its plain name
// ("model.language_model.layers.3.x" -> "model.layers.3.x"); other names unchanged.
std::string text_model_name(std::string_view hf_name) {
  constexpr std::string_view kWrapper = "language_model.";
  std::string name(hf_name);
  if (const auto at = name.find(kWrapper); at != std::string::npos) name.erase(at, kWrapper.size());
  return name;
}
}  // namespace

std::optional<std::string> hf_to_gguf_name(std::string_view hf_name_in, const ArchitectureInfo* arch) {
  if (is_ignored_hf_tensor(hf_name_in)) return std::nullopt;
  const std::string text = text_model_name(hf_name_in);
  const std::string_view hf_name = text;
  if (arch && arch->ssm)
    return translate_whole(hf_name, kMamba2Global, kMamba2PerLayer, &NamePair::hf, &NamePair::gguf, "backbone.layers.",
                           "blk.");
  if (arch && arch->gated_delta_net)
    if (auto n = translate_whole(hf_name, {}, kQwen35PerLayer, &NamePair::hf, &NamePair::gguf, "model.layers.", "blk."))
      return n;
  return translate(hf_name, &NamePair::hf, &NamePair::gguf, "model.layers.", "blk.", arch);
}

std::optional<std::string> gguf_to_hf_name(std::string_view gguf_name, const ArchitectureInfo* arch) {
  if (arch && arch->ssm)
    return translate_whole(gguf_name, kMamba2Global, kMamba2PerLayer, &NamePair::gguf, &NamePair::hf, "blk.",
                           "backbone.layers.");
  if (arch && arch->gated_delta_net)
    if (auto n =
            translate_whole(gguf_name, {}, kQwen35PerLayer, &NamePair::gguf, &NamePair::hf, "blk.", "model.layers."))
      return n;
  return translate(gguf_name, &NamePair::gguf, &NamePair::hf, "blk.", "model.layers.", arch);
}

std::optional<HfExpertTensor> hf_expert_tensor(std::string_view hf_name_in) {
  const std::string text = text_model_name(hf_name_in);
  std::string_view hf_name = text;
  constexpr std::string_view kWeight = ".weight";
  if (!hf_name.ends_with(kWeight)) return std::nullopt;
  hf_name.remove_suffix(kWeight.size());
  int layer;
  std::string_view rest;
  if (!parse_layer(hf_name, "model.layers.", layer, rest)) return std::nullopt;
  for (const auto& e : kExperts) {
    if (!rest.starts_with(e.hf_prefix)) continue;
    std::string_view tail = rest.substr(e.hf_prefix.size());
    int64_t expert = -1;
    auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), expert);
    if (ec != std::errc() || p == tail.data() || expert < 0) return std::nullopt;
    tail.remove_prefix(static_cast<size_t>(p - tail.data()));
    if (tail.size() == e.hf_proj.size() + 1 && tail[0] == '.' && tail.substr(1) == e.hf_proj)
      return HfExpertTensor{"blk." + std::to_string(layer) + "." + std::string(e.gguf) + ".weight", expert};
  }
  return std::nullopt;
}

std::optional<int> gguf_layer_index(std::string_view gguf_name) noexcept {
  int layer;
  std::string_view rest;
  if (!parse_layer(gguf_name, "blk.", layer, rest)) return std::nullopt;
  return layer;
}

QkPermute qk_permute_kind(std::string_view gguf_name) noexcept {
  int layer;
  std::string_view rest;
  if (!parse_layer(gguf_name, "blk.", layer, rest)) return QkPermute::None;
  // Everything with one entry per output row is permuted: weight rows, bias
  // elements and per-channel quantization scales.
  for (std::string_view p : {".weight", ".bias", ".weight_scale", ".weight_zero_point"}) {
    if (rest.size() < p.size() || rest.substr(rest.size() - p.size()) != p) continue;
    const std::string_view stem = rest.substr(0, rest.size() - p.size());
    if (stem == "attn_q") return QkPermute::Query;
    if (stem == "attn_k") return QkPermute::Key;
  }
  return QkPermute::None;
}

namespace {
// Source row of destination row r for the GGUF (interleaved) layout:
// dst[h][i][j] = src[h][j][i] with per-head shape [2][half] -> [half][2].
void check_perm_args(int64_t n_rows, int64_t n_heads) {
  check(
      n_heads > 0 && n_rows % (2 * n_heads) == 0, ErrorCode::ValidationFailed,
      "Q/K rows (" + std::to_string(n_rows) + ") do not split into " + std::to_string(n_heads) + " heads of even size");
}
}  // namespace

void permute_qk_rows(const std::byte* src, std::byte* dst, int64_t n_rows, size_t row_bytes, int64_t n_heads) {
  check_perm_args(n_rows, n_heads);
  const int64_t per_head = n_rows / n_heads, half = per_head / 2;
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t d = h * per_head + i * 2 + j;
        const int64_t s = h * per_head + j * half + i;
        std::memcpy(dst + d * row_bytes, src + s * row_bytes, row_bytes);
      }
}

void unpermute_qk_rows(const std::byte* src, std::byte* dst, int64_t n_rows, size_t row_bytes, int64_t n_heads) {
  check_perm_args(n_rows, n_heads);
  const int64_t per_head = n_rows / n_heads, half = per_head / 2;
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t d = h * per_head + i * 2 + j;
        const int64_t s = h * per_head + j * half + i;
        std::memcpy(dst + s * row_bytes, src + d * row_bytes, row_bytes);
      }
}

}  // namespace libquant::model
