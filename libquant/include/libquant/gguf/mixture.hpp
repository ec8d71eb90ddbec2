#pragma once
// llama-quantize's file types ("Q4_K_M", "IQ2_XS", ...) and its per-tensor
// type rules: which tensors are quantized, which get more bits by role and
// layer position, output/token-embedding types, GQA adjustments, fallbacks
// for rows that do not divide into blocks. Applying the rules to tensors in
// llama.cpp's order gives the same types llama-quantize picks.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/core/pattern.hpp"
#include "libquant/export.hpp"
#include "libquant/gguf/file_type.hpp"

namespace libquant::gguf {

struct FileTypeInfo {
  std::string_view name;  // llama-quantize's name, e.g. "Q4_K_M"
  LlamaFileType ftype;    // stored in general.file_type
  DType base;             // the default tensor type
  bool requires_imatrix;  // its base type needs importance data (tensors that fall back may not)
};

// Every file type llama-quantize accepts, by name (case-insensitive; the
// aliases Q3_K, Q4_K, Q5_K mean the _M variants).
LIBQUANT_API const std::vector<FileTypeInfo>& file_types();
LIBQUANT_API std::optional<FileTypeInfo> find_file_type(std::string_view name);
// "dynamic" (any case): per-tensor types allocated under a size budget.
LIBQUANT_API bool is_dynamic_type_name(std::string_view name) noexcept;

// Model facts the rules depend on.
struct MixtureModel {
  std::string arch = "llama";  // GGUF architecture name
  int64_t n_layer = 0;
  int64_t n_head = 0, n_head_kv = 0;
  int64_t n_expert = 0;
  bool is_70b = false;  // llama.cpp's LLM_TYPE_70B (attn_v promotion)
};

struct MixtureOptions {
  bool pure = false;            // one type for every quantized tensor
  bool quantize_output = true;  // false: --leave-output-tensor
  bool has_imatrix = false;
  std::optional<DType> output_tensor_type;
  std::optional<DType> token_embedding_type;
  // --tensor-type REGEX=TYPE, first match wins, applied after the rules.
  std::vector<std::pair<std::string, DType>> tensor_types;
};

// Whether llama-quantize would quantize the tensor at all (2-D+ weights that
// are not norms, gating inputs, position embeddings, ...; nor, under any name,
// a state-space layer's A, D and time-step tensors or its convolution).
// `t` when rows of `n_per_row` divide into its blocks, else llama.cpp's
// replacement (i-quants -> IQ4_NL, Q2_K/Q3_K/Q2_0/TQ -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0),
// else F16.
LIBQUANT_API DType type_for_rows(DType t, int64_t n_per_row);
// Whether the 2026 llama-quantize refuses to write a tensor of type `t`
// without importance data (the token embeddings and output aside): the types
// whose codecs need it, and IQ3_XXS, whose codec runs without but badly.
LIBQUANT_API bool requires_importance(DType t) noexcept;

LIBQUANT_API bool is_quantizable(std::string_view name, const Shape& shape, bool quantize_output);

class LIBQUANT_API MixturePlanner {
 public:
  // `tensor_names` in llama.cpp order (needed for the attn_v / output counts).
  MixturePlanner(const FileTypeInfo& ft, MixtureModel model, MixtureOptions opts,
                 const std::vector<std::string>& tensor_names);
  // The type for the next tensor, visited in the same order; `current` is
  // its stored type (kept when the tensor is not quantized).
  DType next(std::string_view name, const Shape& shape, DType current);
  int fallbacks() const noexcept { return n_fallback_; }

 private:
  DType rule_type(const std::string& name, const Shape& shape, DType t);
  // `t`, or its fallback (counted, with a warning) when rows of `nx` do not divide into its blocks.
  DType fitted_to_rows(const std::string& name, DType t, int64_t nx);
  FileTypeInfo ft_;
  MixtureModel m_;
  MixtureOptions o_;
  std::vector<std::pair<Pattern, DType>> overrides_;
  bool has_output_ = false;
  int n_attention_wv_ = 0, i_attention_wv_ = 0, i_ffn_down_ = 0, i_ffn_gate_ = 0, i_ffn_up_ = 0;
  int n_fallback_ = 0;
};

}  // namespace libquant::gguf
