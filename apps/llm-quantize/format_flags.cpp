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
  static const std::vector<std::string_view> calibrated = {"smoothquant", "gptq", "awq", "gguf"};
  static const std::vector<std::string_view> weight_only = {"gptq", "awq"};
  static const std::vector<std::string_view> checkpointed = {"gguf", "smoothquant"};
  static const std::vector<FlagScope> s = {
      {"--imatrix", gguf},
      {"--leave-output-tensor", gguf},
      {"--pure", gguf},
      {"--allow-requantize", gguf},
      {"--output-tensor-type", gguf},
      {"--token-embedding-type", gguf},
      {"--tensor-type", gguf},
      {"--tensor-type-file", gguf},
      {"--prune-layers", gguf},
      {"--include-weights", gguf},
      {"--exclude-weights", gguf},
      {"--override-kv", gguf},
      {"--dry-run", gguf},
      {"--no-auto-imatrix", gguf},
      {"--keep-split", gguf},
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
      {"--gptq", gguf},
      // GPTQ and AWQ record no checkpoints yet: they start afresh.
      {"--checkpoint-dir", checkpointed},
      {"--resume", checkpointed},
      {"--no-checkpoints", checkpointed},
      {"--smoothquant", {"smoothquant"}},
      {"--alpha", {"smoothquant"}},
      {"--static-activations", {"smoothquant"}},
      {"--smooth-down", {"smoothquant"}},
      {"--calibration-data", calibrated},
      {"--calibration-samples", calibrated},
      {"--calibration-seq-len", calibrated},
      {"--calibration-batch", calibrated},
      {"--max-shard-size", {"smoothquant", "gptq", "awq"}},
      {"--group-size", weight_only},
      {"--layout", weight_only},
      {"--act-order", {"gptq"}},
      {"--damp", {"gptq", "gguf"}},
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

bool given(const CLI::App& sub, std::string_view flag) {
  const CLI::Option* opt = sub.get_option_no_throw(std::string(flag));
  return opt && opt->count() > 0;
}

[[noreturn]] void does_nothing(std::string_view flag, const std::string& why, const std::string& suggestion) {
  throw libquant::Error(libquant::ErrorCode::InvalidArgument, std::string(flag) + " does nothing here: " + why,
                        suggestion);
}

}  // namespace

void reject_littlebit_flags_that_do_nothing(const CLI::App& sub, const LittleBitRun& run) {
  if (given(sub, "--gguf-quant") && run.format != "gguf-lossy")
    does_nothing("--gguf-quant", "it is the type of --format gguf-lossy, not of " + run.format,
                 "Drop --gguf-quant, or write gguf-lossy");
  for (std::string_view f : {"--calibration-data", "--calibration-samples", "--calibration-seq-len", "--refine-steps",
                             "--refine-rows", "--sequential", "--block-samples", "--block-lr", "--block-latent-lr"})
    if (given(sub, f) && !run.refine)
      does_nothing(f, "--no-refine skips the calibration pass it configures",
                   "Drop " + std::string(f) + " or --no-refine");
  for (std::string_view f : {"--validation-data", "--validation-chunks"})
    if (given(sub, f) && !run.validate)
      does_nothing(f, "--skip-validation skips the validation it configures",
                   "Drop " + std::string(f) + " or --skip-validation");
}

void reject_gguf_calibration_without_gptq(const CLI::App& sub, const std::string& format, bool gptq) {
  if (format != "gguf" || gptq) return;
  // --calibration-data also feeds the imatrix computed when a type needs one (checked where that is known).
  for (std::string_view f : {"--calibration-samples", "--calibration-seq-len", "--calibration-batch", "--damp"})
    if (given(sub, f))
      does_nothing(f, "GGUF quantization calibrates only for --gptq", "Add --gptq, or drop " + std::string(f));
}

void reject_flags_outside_format(const CLI::App& sub, const std::string& format) {
  for (const FlagScope& s : scopes()) {
    if (!given(sub, s.flag)) continue;
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
