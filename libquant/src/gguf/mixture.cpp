#include "libquant/gguf/mixture.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::gguf {
namespace {

using F = LlamaFileType;

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }
bool any_of(F f, std::initializer_list<F> set) { return std::find(set.begin(), set.end(), f) != set.end(); }

// llama.cpp's use_more_bits: the first and last eighth of layers, and every
// third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Replacement when a row does not divide into the chosen type's blocks, as the
// 2026 llama-quantize's table (February 2025's sent Q2_K and Q3_K to IQ4_NL).
std::optional<DType> fallback_type(DType t) {
  switch (t) {
    case DType::Q2_0:
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::TQ1_0:
    case DType::TQ2_0:
      return DType::Q4_0;
    case DType::IQ2_XXS:
    case DType::IQ2_XS:
    case DType::IQ2_S:
    case DType::IQ3_XXS:
    case DType::IQ3_S:
    case DType::IQ1_S:
    case DType::IQ1_M:
    case DType::IQ4_XS:
      return DType::IQ4_NL;
    case DType::Q4_K:
      return DType::Q5_0;
    case DType::Q5_K:
      return DType::Q5_1;
    case DType::Q6_K:
      return DType::Q8_0;
    default:
      return std::nullopt;
  }
}

}  // namespace

const std::vector<FileTypeInfo>& file_types() {
  static const std::vector<FileTypeInfo> kTypes = {
      {"F32", F::AllF32, DType::F32, false},
      {"F16", F::MostlyF16, DType::F16, false},
      {"BF16", F::MostlyBF16, DType::BF16, false},
      {"Q8_0", F::MostlyQ8_0, DType::Q8_0, false},
      {"Q4_0", F::MostlyQ4_0, DType::Q4_0, false},
      {"Q4_1", F::MostlyQ4_1, DType::Q4_1, false},
      {"Q5_0", F::MostlyQ5_0, DType::Q5_0, false},
      {"Q5_1", F::MostlyQ5_1, DType::Q5_1, false},
      {"Q2_K", F::MostlyQ2_K, DType::Q2_K, false},
      {"Q2_K_S", F::MostlyQ2_K_S, DType::Q2_K, true},
      {"Q3_K_S", F::MostlyQ3_K_S, DType::Q3_K, false},
      {"Q3_K_M", F::MostlyQ3_K_M, DType::Q3_K, false},
      {"Q3_K_L", F::MostlyQ3_K_L, DType::Q3_K, false},
      {"Q4_K_S", F::MostlyQ4_K_S, DType::Q4_K, false},
      {"Q4_K_M", F::MostlyQ4_K_M, DType::Q4_K, false},
      {"Q5_K_S", F::MostlyQ5_K_S, DType::Q5_K, false},
      {"Q5_K_M", F::MostlyQ5_K_M, DType::Q5_K, false},
      {"Q6_K", F::MostlyQ6_K, DType::Q6_K, false},
      {"IQ1_S", F::MostlyIQ1_S, DType::IQ1_S, true},
      {"IQ1_M", F::MostlyIQ1_M, DType::IQ1_M, true},
      {"IQ2_XXS", F::MostlyIQ2_XXS, DType::IQ2_XXS, true},
      {"IQ2_XS", F::MostlyIQ2_XS, DType::IQ2_XS, true},
      {"IQ2_S", F::MostlyIQ2_S, DType::IQ2_XS, true},
      {"IQ2_M", F::MostlyIQ2_M, DType::IQ2_S, true},
      {"IQ3_XXS", F::MostlyIQ3_XXS, DType::IQ3_XXS, true},
      {"IQ3_XS", F::MostlyIQ3_XS, DType::IQ3_S, false},
      {"IQ3_S", F::MostlyIQ3_S, DType::IQ3_S, false},
      {"IQ3_M", F::MostlyIQ3_M, DType::IQ3_S, false},
      {"IQ4_NL", F::MostlyIQ4_NL, DType::IQ4_NL, false},
      {"IQ4_XS", F::MostlyIQ4_XS, DType::IQ4_XS, false},
      {"TQ1_0", F::MostlyTQ1_0, DType::TQ1_0, false},
      {"TQ2_0", F::MostlyTQ2_0, DType::TQ2_0, false},
      {"MXFP4_MOE", F::MostlyMXFP4_MOE, DType::MXFP4, false},
      {"Q1_0", F::MostlyQ1_0, DType::Q1_0, false},
      {"Q2_0", F::MostlyQ2_0, DType::Q2_0, false},
  };
  return kTypes;
}

std::optional<FileTypeInfo> find_file_type(std::string_view name) {
  std::string up(name);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (up == "Q3_K" || up == "Q4_K" || up == "Q5_K") up += "_M";
  for (const auto& t : file_types())
    if (t.name == up) return t;
  return std::nullopt;
}

namespace {

// A state-space layer's A, D or time-step tensor (the roadmap's SSM_STATE role):
// tiny and multiplied into a recurrence, so an error compounds over every token.
// llama.cpp's own files never offer them for quantization (no ".weight" suffix,
// or 1-D); files named otherwise (Ollama's "ssm_dt.weight", 2-D) keep them too.
bool is_ssm_state(std::string_view name) {
  const auto dot = name.find('.', 4);
  if (!name.starts_with("blk.") || dot == std::string_view::npos) return false;
  std::string_view rest = name.substr(dot + 1);  // "ssm_dt.bias" -> "ssm_dt"
  if (rest.ends_with(".weight"))
    rest.remove_suffix(7);
  else if (rest.ends_with(".bias"))
    rest.remove_suffix(5);
  return rest == "ssm_a" || rest == "ssm_d" || rest == "ssm_dt";
}

}  // namespace

bool is_quantizable(std::string_view name, const Shape& shape, bool quantize_output) {
  if (is_ssm_state(name)) return false;
  // ggml_n_dims counts: a [1, n] tensor is a vector.
  if (!name.ends_with("weight") || shape.ggml_stored().rank() < 2) return false;
  const std::string n(name);
  static constexpr std::string_view kNever[] = {"_norm.weight",
                                                "ffn_gate_inp.weight",
                                                "ssm_conv1d",
                                                "shortconv.conv.weight",
                                                "time_mix_first.weight",
                                                "time_mix_w1.weight",
                                                "time_mix_w2.weight",
                                                "time_mix_decay_w1.weight",
                                                "time_mix_decay_w2.weight",
                                                "time_mix_lerp_fused.weight",
                                                "attn_rel_b.weight"};
  for (auto part : kNever)
    if (contains(n, part)) return false;
  if (n == "position_embd.weight" || n == "token_types.weight") return false;
  return quantize_output || n != "output.weight";
}

bool requires_importance(DType t) noexcept { return needs_importance(t) || t == DType::IQ3_XXS; }

DType type_for_rows(DType t, int64_t n_per_row) {
  if (n_per_row % traits(t).block_size == 0) return t;
  // llama.cpp gives up when the replacement does not fit either; F16 keeps the tensor usable.
  const DType fb = fallback_type(t).value_or(DType::F16);
  return n_per_row % traits(fb).block_size == 0 ? fb : DType::F16;
}

bool is_dynamic_type_name(std::string_view name) noexcept {
  constexpr std::string_view d = "dynamic";
  if (name.size() != d.size()) return false;
  for (size_t i = 0; i < d.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(name[i])) != d[i]) return false;
  return true;
}

MixturePlanner::MixturePlanner(const FileTypeInfo& ft, MixtureModel model, MixtureOptions opts,
                               const std::vector<std::string>& tensor_names)
    : ft_(ft), m_(std::move(model)), o_(std::move(opts)) {
  for (const auto& n : tensor_names) {
    if (contains(n, "attn_v.weight") || contains(n, "attn_qkv.weight") || contains(n, "attn_kv_b.weight"))
      ++n_attention_wv_;
    else if (n == "output.weight")
      has_output_ = true;
  }
  for (const auto& [pattern, type] : o_.tensor_types)
    overrides_.emplace_back(Pattern(pattern, ErrorCode::InvalidArgument, "tensor-type pattern"), type);
}

DType MixturePlanner::next(std::string_view name_view, const Shape& shape, DType current) {
  const std::string name(name_view);
  if (!is_quantizable(name, shape, o_.quantize_output)) return current;
  DType t = ft_.base;
  if (!o_.pure && traits(ft_.base).is_quantized) t = rule_type(name, shape, t);
  if (o_.token_embedding_type && name == "token_embd.weight") t = *o_.token_embedding_type;
  if (o_.output_tensor_type && name == "output.weight") t = *o_.output_tensor_type;
  for (const auto& [re, type] : overrides_)
    if (re.search(name)) {
      // As the 2026 llama-quantize: an override whose blocks do not fit the
      // rows falls back like the built-in rules' choices.
      t = fitted_to_rows(name, type, shape.row_length());
      break;
    }
  return t;
}

DType MixturePlanner::fitted_to_rows(const std::string& name, DType t, int64_t nx) {
  if (!traits(t).is_quantized || nx % traits(t).block_size == 0) return t;
  const DType chosen = type_for_rows(t, nx);
  log_warning("tensor '" + name + "' has rows of " + std::to_string(nx) + " elements, not divisible into " +
              std::string(traits(t).name) + " blocks; using " + std::string(traits(chosen).name));
  ++n_fallback_;
  return chosen;
}

// llama.cpp's llama_tensor_get_type, rule for rule and in the same order.
DType MixturePlanner::rule_type(const std::string& name, const Shape& shape, DType t) {
  const F f = ft_.ftype;
  const int64_t nx = shape.row_length();
  const int64_t gqa = m_.n_head_kv > 0 ? m_.n_head / m_.n_head_kv : 1;
  const int64_t n_expert = std::max<int64_t>(1, m_.n_expert);
  const bool falcon = m_.arch == "falcon";
  const int n_layer = static_cast<int>(m_.n_layer);
  auto layer_of = [&](int counter) {
    if (n_expert <= 1) return counter;
    int layer = -1;
    if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1 || layer < 0 || layer >= n_layer)
      throw Error(ErrorCode::ValidationFailed, "cannot determine the layer of tensor '" + name + "'");
    return layer;
  };
  const bool very_low =
      any_of(f, {F::MostlyIQ2_XXS, F::MostlyIQ2_XS, F::MostlyIQ1_S, F::MostlyIQ2_S, F::MostlyIQ2_M, F::MostlyIQ1_M});
  // The 2026 llama-quantize's attention-V category: fused Q|K|V and MLA's kv_b follow attn_v's rules
  // (February 2025's gave attn_qkv rules of its own: Q4_K_M -> Q5_K, Q5_K_M -> Q6_K, Q3_K_M/L -> Q4_K).
  const bool attn_v_like =
      contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight");
  const bool iq2_sm = any_of(f, {F::MostlyIQ2_S, F::MostlyIQ2_M});

  if (name == "output.weight" || (!has_output_ && name == "token_embd.weight")) {
    if (o_.output_tensor_type)
      t = *o_.output_tensor_type;
    else if (f == F::MostlyMXFP4_MOE || falcon || nx % traits(t).block_size != 0)
      t = DType::Q8_0;
    else if (any_of(f, {F::MostlyIQ2_XXS, F::MostlyIQ2_XS, F::MostlyIQ3_XXS, F::MostlyIQ1_S, F::MostlyIQ2_S,
                        F::MostlyIQ2_M, F::MostlyIQ1_M}))
      t = DType::Q5_K;
    else if (t != DType::Q8_0)
      t = DType::Q6_K;
  } else if (f == F::MostlyMXFP4_MOE) {  // stacked experts in MXFP4, everything else Q8_0
    t = shape.rank() == 3 && shape[0] > 1 ? DType::MXFP4 : DType::Q8_0;
  } else if (name == "token_embd.weight") {
    if (o_.token_embedding_type)
      t = *o_.token_embedding_type;
    else if (any_of(f, {F::MostlyIQ2_XXS, F::MostlyIQ2_XS, F::MostlyIQ1_S, F::MostlyIQ1_M}))
      t = DType::Q2_K;
    else if (iq2_sm || f == F::MostlyIQ3_XXS)
      t = DType::IQ3_S;
    else if (any_of(f, {F::MostlyTQ1_0, F::MostlyTQ2_0, F::MostlyQ2_0}))
      t = DType::Q4_K;
  } else if (very_low) {
    if (attn_v_like) {
      if (gqa >= 4 || m_.n_expert >= 4)
        t = DType::Q4_K;
      else
        t = iq2_sm ? DType::IQ3_S : DType::Q2_K;
      ++i_attention_wv_;
    } else if (m_.n_expert == 8 && contains(name, "attn_k.weight")) {
      t = DType::Q4_K;
    } else if (contains(name, "ffn_down")) {
      if (i_ffn_down_ < n_layer / 8) t = iq2_sm ? DType::IQ3_S : DType::Q2_K;
      ++i_ffn_down_;
    } else if (contains(name, "attn_output.weight")) {
      if (m_.n_expert == 8)
        t = DType::Q5_K;
      else if (any_of(f, {F::MostlyIQ1_S, F::MostlyIQ1_M}))
        t = DType::IQ2_XXS;
      else if (iq2_sm)
        t = DType::IQ3_S;
    }
  } else if (attn_v_like) {
    if (f == F::MostlyQ2_K)
      t = gqa >= 4 ? DType::Q4_K : DType::Q3_K;
    else if (f == F::MostlyQ2_K_S && gqa >= 4)
      t = DType::Q4_K;
    else if (f == F::MostlyIQ3_XXS)
      t = gqa >= 4 ? DType::Q4_K : !o_.has_imatrix ? DType::IQ3_S : DType::IQ3_XXS;
    else if (any_of(f, {F::MostlyIQ3_XS, F::MostlyIQ3_S}) && gqa >= 4)
      t = DType::Q4_K;
    else if (f == F::MostlyIQ3_M)
      t = DType::Q4_K;
    else if (f == F::MostlyQ3_K_M)
      t = i_attention_wv_ < 2 ? DType::Q5_K : DType::Q4_K;
    else if (f == F::MostlyQ3_K_L)
      t = DType::Q5_K;
    else if (any_of(f, {F::MostlyIQ4_NL, F::MostlyIQ4_XS}) && gqa >= 4)
      t = DType::Q5_K;
    else if (any_of(f, {F::MostlyQ4_K_M, F::MostlyQ5_K_M}) && use_more_bits(i_attention_wv_, n_attention_wv_))
      t = DType::Q6_K;
    else if (f == F::MostlyQ4_K_S && i_attention_wv_ < 4)
      t = DType::Q5_K;
    if (m_.is_70b && (t == DType::Q3_K || t == DType::Q4_K)) t = DType::Q5_K;
    if (m_.n_expert == 8) t = DType::Q8_0;
    ++i_attention_wv_;
  } else if (contains(name, "attn_k.weight")) {
    if (m_.n_expert == 8)
      t = DType::Q8_0;
    else if (f == F::MostlyIQ3_XS)
      t = DType::IQ3_XXS;
    else if (f == F::MostlyIQ3_XXS)
      t = DType::IQ2_S;
  } else if (contains(name, "attn_q.weight")) {
    if (f == F::MostlyIQ3_XS)
      t = DType::IQ3_XXS;
    else if (f == F::MostlyIQ3_XXS)
      t = DType::IQ2_S;
  } else if (contains(name, "ffn_down")) {
    const int i = layer_of(i_ffn_down_), n = n_layer;
    if (f == F::MostlyQ2_K)
      t = DType::Q3_K;
    else if (f == F::MostlyQ2_K_S) {
      if (i < n / 8) t = DType::Q4_K;
    } else if (f == F::MostlyIQ3_XXS && !o_.has_imatrix)
      t = i < n / 8 ? DType::Q4_K : DType::Q3_K;
    else if (f == F::MostlyQ3_K_M)
      t = i < n / 16 ? DType::Q5_K : (!falcon || use_more_bits(i, n)) ? DType::Q4_K : DType::Q3_K;
    else if (f == F::MostlyIQ3_M && (i < n / 8 || (m_.n_expert == 8 && use_more_bits(i, n))))
      t = DType::Q4_K;
    else if (f == F::MostlyQ3_K_L)
      t = falcon ? DType::Q4_K : DType::Q5_K;
    else if (f == F::MostlyQ4_K_M) {
      if (falcon)
        t = i < n / 16 ? DType::Q6_K : use_more_bits(i, n) ? DType::Q5_K : DType::Q4_K;
      else if (use_more_bits(i, n))
        t = DType::Q6_K;
    } else if (i < n / 8 && any_of(f, {F::MostlyIQ4_NL, F::MostlyIQ4_XS}) && !o_.has_imatrix)
      t = DType::Q5_K;
    else if (f == F::MostlyQ5_K_M && use_more_bits(i, n))
      t = DType::Q6_K;
    else if (f == F::MostlyQ4_K_S && !falcon && i < n / 8)
      t = DType::Q5_K;
    else if (any_of(f, {F::MostlyQ4_0, F::MostlyQ5_0}) && o_.has_imatrix && i < n / 8)
      t = f == F::MostlyQ4_0 ? DType::Q4_1 : DType::Q5_1;
    ++i_ffn_down_;
  } else if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (m_.n_expert == 8) {
        if (any_of(f,
                   {F::MostlyQ2_K, F::MostlyIQ3_XS, F::MostlyIQ3_XXS, F::MostlyQ3_K_S, F::MostlyQ3_K_M, F::MostlyIQ4_NL,
                    F::MostlyQ4_K_S, F::MostlyQ4_K_M, F::MostlyIQ3_S, F::MostlyIQ3_M, F::MostlyIQ4_XS}))
          t = DType::Q5_K;
      } else {
        if (f == F::MostlyQ2_K)
          t = DType::Q3_K;
        else if (f == F::MostlyIQ3_XXS)
          t = DType::IQ3_S;
        else if (f == F::MostlyQ3_K_M)
          t = DType::Q4_K;
        else if (f == F::MostlyQ3_K_L)
          t = DType::Q5_K;
        else if (f == F::MostlyIQ3_M)
          t = DType::Q4_K;
      }
    } else if (f == F::MostlyQ3_K_L) {
      t = DType::Q4_K;
    }
  } else if (contains(name, "ffn_gate")) {
    const int i = layer_of(i_ffn_gate_);
    if (f == F::MostlyIQ3_XS && i >= n_layer / 8 && i < 7 * n_layer / 8) t = DType::IQ3_XXS;
    ++i_ffn_gate_;
  } else if (contains(name, "ffn_up")) {
    const int i = layer_of(i_ffn_up_);
    if (f == F::MostlyIQ3_XS && i >= n_layer / 8 && i < 7 * n_layer / 8) t = DType::IQ3_XXS;
    ++i_ffn_up_;
  }

  return fitted_to_rows(name, t, nx);
}

}  // namespace libquant::gguf
