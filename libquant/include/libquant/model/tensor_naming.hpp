#pragma once
// HF <-> GGUF tensor names as llama.cpp uses them, and the Q/K row permutation
// llama.cpp's converter applies to Llama-family attention weights (HF uses the
// rotate-half RoPE layout, GGUF the interleaved one).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant::model {

struct ArchitectureInfo;

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; a multimodal wrapper's
// "model.language_model.layers.3..." names map as the text model's (as do hf_expert_tensor's).
// Returns nullopt for tensors GGUF does not carry (rotary inv_freq) and for
// names it does not know. `arch` picks family-specific meanings (Gemma's
// post_attention_layernorm is its own norm, not the FFN's input norm).
LIBQUANT_API std::optional<std::string> hf_to_gguf_name(std::string_view hf_name,
                                                        const ArchitectureInfo* arch = nullptr);
// The inverse ("blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight").
LIBQUANT_API std::optional<std::string> gguf_to_hf_name(std::string_view gguf_name,
                                                        const ArchitectureInfo* arch = nullptr);
// A multi-token-prediction tensor ("mtp.layers.0.self_attn.q_proj.weight", "mtp.fc.weight") as the
// layer-indexed name of the block it becomes after the model's n_layers blocks
// ("model.layers.<n_layers>.self_attn.q_proj.weight", "model.layers.<n_layers>.nextn.eh_proj.weight");
// nullopt for other names.
LIBQUANT_API std::optional<std::string> hf_mtp_layer_name(std::string_view hf_name, int64_t n_layers);
// True for names that hf_to_gguf_name deliberately drops.
LIBQUANT_API bool is_ignored_hf_tensor(std::string_view hf_name) noexcept;
// One expert's weight of a mixture-of-experts layer: GGUF stacks all experts
// of a projection into one 3-D tensor, [experts, rows, cols] (row-major).
struct HfExpertTensor {
  std::string gguf_name;  // "blk.3.ffn_gate_exps.weight"
  int64_t expert;         // its index in the stack
};
// "model.layers.3.mlp.experts.5.gate_proj.weight" (Qwen-MoE) or
// "model.layers.3.block_sparse_moe.experts.5.w1.weight" (Mixtral) -> {blk.3.ffn_gate_exps.weight, 5};
// nullopt for every other name.
LIBQUANT_API std::optional<HfExpertTensor> hf_expert_tensor(std::string_view hf_name);
// Layer index of "blk.N.*" (nullopt otherwise).
LIBQUANT_API std::optional<int> gguf_layer_index(std::string_view gguf_name) noexcept;

// Which permutation a tensor needs when going HF -> GGUF (None for most).
enum class QkPermute { None, Query, Key };
LIBQUANT_API QkPermute qk_permute_kind(std::string_view gguf_name) noexcept;

// Row permutation of llama.cpp's converter: rows are grouped per head as
// [head][2][rows_per_head/2] in HF order and emitted as [head][rows/2][2].
// `n_heads` is the number of heads the tensor spans (n_head for Q, n_head_kv
// for K). Works on rows of `row_bytes` bytes, so any dtype (or a bias vector
// with row_bytes = element size) can be permuted. dst must not alias src.
LIBQUANT_API void permute_qk_rows(const std::byte* src, std::byte* dst, int64_t n_rows, size_t row_bytes,
                                  int64_t n_heads);
LIBQUANT_API void unpermute_qk_rows(const std::byte* src, std::byte* dst, int64_t n_rows, size_t row_bytes,
                                    int64_t n_heads);

}  // namespace libquant::model
