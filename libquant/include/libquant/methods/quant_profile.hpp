#pragma once
// Dynamic quantization profiles (.dqprofile, docs/formats/dqprofile.md):
// ordered rules that give a GGUF type to the tensors they match (by regex on
// the tensor name, tensor class, layer range), a default type, an optional
// size target and the candidate types for automatic allocation. Presets:
// attention-high, balanced, compression-max.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/pattern.hpp"
#include "libquant/export.hpp"

namespace libquant::methods {

struct ProfileRule {
  std::string pattern;  // RE2 regex searched in the tensor name ("" = any); core/pattern.hpp
  // attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down, attention, mlp, token_embd, output ("" = any)
  std::string tensor_class;
  std::optional<int> first_layer, last_layer;  // inclusive; negative counts from the end (-1 = last layer)
  DType type = DType::Q4_K;
};

struct QuantProfile {
  std::string name;
  std::string description;
  std::string strategy = "custom";    // attention_high | balanced | compression_max | custom
  std::optional<DType> default_type;  // for quantizable tensors no rule matches (none: the reference mixture's)
  std::vector<ProfileRule> rules;     // first match wins
  std::optional<double> target_bpw;   // allocate automatically under this size (rules then pin what they match)
  std::vector<DType> candidates;      // types the allocation may use (empty: the defaults)
};

// Classes a rule may name, and the class of a GGUF tensor name ("" if none).
LIBQUANT_API const std::vector<std::string_view>& profile_tensor_classes();
LIBQUANT_API bool tensor_in_class(std::string_view tensor_name, std::string_view cls);
// The layer of "blk.N.*" names (-1 otherwise).
LIBQUANT_API int tensor_layer(std::string_view tensor_name);

// A profile's rules with their patterns compiled once, for matching many tensors.
class LIBQUANT_API ProfileMatcher {
 public:
  ProfileMatcher(const QuantProfile& p, int n_layers);
  // The first rule matching a tensor (its index), or nullopt.
  std::optional<size_t> rule_index(std::string_view tensor_name) const;
  // That rule's type, or nullopt when no rule matches.
  std::optional<DType> type(std::string_view tensor_name) const;

 private:
  const QuantProfile& p_;
  int n_layers_;
  std::vector<std::optional<Pattern>> patterns_;
};

// One-off matches (each call compiles the patterns; use ProfileMatcher for many).
LIBQUANT_API std::optional<size_t> matching_rule(const QuantProfile& p, std::string_view tensor_name, int n_layers);
LIBQUANT_API std::optional<DType> match_rule(const QuantProfile& p, std::string_view tensor_name, int n_layers);

LIBQUANT_API const std::vector<QuantProfile>& preset_profiles();
// Parses a .dqprofile document; throws Error(ProfileInvalid, 13) naming the problem.
LIBQUANT_API QuantProfile parse_profile(std::string_view json, const std::string& origin = "profile");
// A preset name, or a path to a .dqprofile file (also looked up, as given and
// with ".dqprofile" added, in each of `search_dirs` in order). Throws
// ProfileInvalid when none of these exists.
LIBQUANT_API QuantProfile load_profile(const std::string& name_or_path,
                                       const std::vector<std::filesystem::path>& search_dirs = {});
LIBQUANT_API std::string profile_to_json(const QuantProfile& p);
LIBQUANT_API void save_profile(const QuantProfile& p, const std::filesystem::path& path);

}  // namespace libquant::methods
