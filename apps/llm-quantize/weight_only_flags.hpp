#pragma once
// `quantize MODEL gptq|awq` flags (-q 4bit, --group-size, --act-order,
// --damp, --asym/--sym, --rtn, --awq-search-samples, --layout), their validation, and
// the result printout. Calibration flags are shared with smoothquant
// (SmoothQuantFlags).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

#include "cli_output.hpp"
#include "libquant/jobs/quality_gates.hpp"
#include "libquant/jobs/weight_only.hpp"
#include "smoothquant_flags.hpp"

namespace cli {

struct WeightOnlyFlags {
  int64_t group_size = 128;
  bool act_order = false;
  double damp = 0.01;
  bool asymmetric = false, symmetric = false;
  bool rtn = false;
  int64_t awq_search_samples = 16;
  std::string layout = "compressed-tensors";

  void add_to(CLI::App* sub);
  // Value checks (exit 2); which format each flag is for: format_flags.cpp.
  void validate() const;
  // -q 4bit / W4A16 / int4 (2, 3, 4, 8; default 4) -> bits; exit 2 otherwise.
  static int bits_of(const std::string& level);
  libquant::jobs::WeightOnlyJobOptions job_options(const std::string& model, const std::filesystem::path& output,
                                                   const std::string& format, int bits,
                                                   const SmoothQuantFlags& calibration, unsigned threads) const;
};

// The result (with the quality gates that ran) as JSON or human text.
void print_weight_only_result(const GlobalOptions& g, const libquant::jobs::WeightOnlyJobResult& r,
                              const libquant::jobs::QualityGateResult& gates);

}  // namespace cli
