#pragma once
// `quantize MODEL smoothquant` flags (--smoothquant, --alpha, calibration and
// activation-scheme options), their validation, and the result printout.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

#include "cli_output.hpp"
#include "libquant/jobs/quality_gates.hpp"
#include "libquant/jobs/smoothquant.hpp"

namespace cli {

struct SmoothQuantFlags {
  bool smoothquant = false;
  std::string alpha;  // "" = default 0.5, a number in [0, 1], or "auto"
  std::string calibration_data;
  int64_t calibration_samples = 512;
  int64_t seq_len = 512;
  int64_t batch = 4;
  bool static_activations = false;
  bool smooth_down = false;
  std::string max_shard_size = "5GB";

  void add_to(CLI::App* sub);
  // Exit 2 for --smoothquant / --alpha / calibration flags that do not fit
  // `format` or each other.
  void validate(const std::string& format) const;
  libquant::jobs::SmoothQuantJobOptions job_options(const std::string& model, const std::filesystem::path& output,
                                                    unsigned threads) const;
};

// "5GB", "500MB", "123" (bytes) -> bytes; exit 2 for anything else.
uint64_t parse_size(const std::string& s, const char* flag);

// The result (with the quality gates that ran) as JSON or human text.
void print_smoothquant_result(const GlobalOptions& g, const libquant::jobs::SmoothQuantJobResult& r,
                              const libquant::jobs::QualityGateResult& gates);

}  // namespace cli
