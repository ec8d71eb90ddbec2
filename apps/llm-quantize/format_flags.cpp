#include "format_flags.hpp"

#include <string_view>
#include <vector>

#include "libquant/core/error.hpp"

namespace cli {
namespace {

struct FlagScope {
  std::string_view flag;
  std::vector<std::string_view> formats;
};

// Flags absent here apply to every format (output, threads, quality gates).
const std::vector<FlagScope>& scopes() {
  static const std::vector<std::string_view> gguf = {"gguf"};
  static const std::vector<std::string_view> calibrated = {"smoothquant", "gptq", "awq"};
  static const std::vector<std::string_view> weight_only = {"gptq", "awq"};
  static const std::vector<FlagScope> s = {
      {"--imatrix", gguf},
      {"--leave-output-tensor", gguf},
      {"--pure", gguf},
      {"--allow-requantize", gguf},
      {"--output-tensor-type", gguf},
      {"--token-embedding-type", gguf},
      {"--tensor-type", gguf},
      {"--ternary-format", gguf},
      {"--target-bpw", gguf},
      {"--target-size-bytes", gguf},
      {"--candidates", gguf},
      {"--profile", gguf},
      {"--protect-super-weights", gguf},
      {"--super-weights", gguf},
      {"--protection-coverage", gguf},
      {"--error-metric", gguf},
      {"--kl-refine", gguf},
      {"--kl-data", gguf},
      {"--sample-rows", gguf},
      // Only the GGUF job records checkpoints; the HF-checkpoint writers start afresh.
      {"--checkpoint-dir", gguf},
      {"--resume", gguf},
      {"--no-checkpoints", gguf},
      {"--smoothquant", {"smoothquant"}},
      {"--alpha", {"smoothquant"}},
      {"--static-activations", {"smoothquant"}},
      {"--smooth-down", {"smoothquant"}},
      {"--calibration-data", calibrated},
      {"--calibration-samples", calibrated},
      {"--calibration-seq-len", calibrated},
      {"--calibration-batch", calibrated},
      {"--max-shard-size", calibrated},
      {"--group-size", weight_only},
      {"--layout", weight_only},
      {"--act-order", {"gptq"}},
      {"--damp", {"gptq"}},
      {"--asym", {"gptq"}},
      {"--rtn", {"gptq"}},
      {"--sym", {"awq"}},
      {"--awq-search-samples", {"awq"}},
  };
  return s;
}

std::string joined(const std::vector<std::string_view>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? (i + 1 == v.size() ? " or " : ", ") : "") + std::string(v[i]);
  return out;
}

}  // namespace

void reject_flags_outside_format(const CLI::App& sub, const std::string& format) {
  for (const FlagScope& s : scopes()) {
    const CLI::Option* opt = sub.get_option_no_throw(std::string(s.flag));
    if (!opt || opt->count() == 0) continue;
    bool applies = false;
    for (std::string_view f : s.formats) applies = applies || f == format;
    if (!applies)
      throw libquant::Error(
          libquant::ErrorCode::InvalidArgument,
          std::string(s.flag) + " does not apply to the " + format + " format (it is for " + joined(s.formats) + ")",
          "Drop " + std::string(s.flag) + ", or write the " + joined(s.formats) + " format");
  }
}

}  // namespace cli
