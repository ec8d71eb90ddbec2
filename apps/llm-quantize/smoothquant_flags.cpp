#include "smoothquant_flags.hpp"

#include <cctype>
#include <cstdio>
#include <iostream>

#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/core/log.hpp"

namespace cli {
using libquant::Error;
using libquant::ErrorCode;

void SmoothQuantFlags::add_to(CLI::App* sub) {
  sub->add_flag("--smoothquant", smoothquant,
                "smoothquant format: migrate activation outliers into the weights before W8A8 quantization "
                "(without it the output is plain W8A8)");
  sub->add_option("--alpha", alpha,
                  "SmoothQuant migration strength in [0, 1] (default 0.5), or 'auto': per layer group, the alpha "
                  "(or no smoothing) with the least INT8 output error on calibration activations");
  sub->add_option("--calibration-data", calibration_data,
                  "smoothquant, gptq: calibration text (.txt, .json, .jsonl; default: the bundled text; exit 15 when "
                  "unreadable)");
  sub->add_option("--calibration-samples", calibration_samples, "smoothquant, gptq: calibration sequences")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_option("--calibration-seq-len", seq_len, "smoothquant, gptq: tokens per calibration sequence")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  sub->add_option("--calibration-batch", batch, "smoothquant, gptq: sequences per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  sub->add_flag("--static-activations", static_activations,
                "smoothquant: static per-tensor activation scales from calibration (default: dynamic per token)");
  sub->add_flag("--smooth-down", smooth_down,
                "--smoothquant: also smooth down_proj's input, folding 1/s into up_proj's rows (not in the "
                "original method; always on with --alpha auto)");
  sub->add_option("--max-shard-size", max_shard_size, "smoothquant, gptq: safetensors shard size (e.g. 5GB, 500MB)")
      ->capture_default_str();
}

uint64_t parse_size(const std::string& s, const char* flag) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string unit = s.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const double mult = unit.empty() || unit == "B" ? 1
                      : unit == "KB"              ? 1e3
                      : unit == "MB"              ? 1e6
                      : unit == "GB"              ? 1e9
                                                  : -1;
  double v = -1;
  try {
    if (i > 0) v = std::stod(s.substr(0, i));
  } catch (...) {}
  if (mult < 0 || v <= 0)
    throw Error(ErrorCode::InvalidArgument, std::string(flag) + " '" + s + "' is not a size", "Example: 5GB, 500MB");
  return static_cast<uint64_t>(v * mult);
}

void SmoothQuantFlags::validate(const std::string& format) const {
  if (smooth_down && !smoothquant)
    throw Error(ErrorCode::InvalidArgument, "--smooth-down requires --smoothquant", "Add --smoothquant");
  if (!alpha.empty() && !smoothquant)
    throw Error(ErrorCode::InvalidArgument, "--alpha requires --smoothquant", "Add --smoothquant");
  if (!alpha.empty() && alpha != "auto") {
    double a = -1;
    try {
      size_t used = 0;
      a = std::stod(alpha, &used);
      if (used != alpha.size()) a = -1;
    } catch (...) {}
    if (!(a >= 0 && a <= 1))
      throw Error(ErrorCode::InvalidArgument, "--alpha '" + alpha + "' is not a number in [0, 1] or 'auto'",
                  "Typical values: 0.5 (default), 0.8 for Llama-2/3; 'auto' searches per layer");
  }
  if (format == "smoothquant" || format == "gptq" || format == "awq") parse_size(max_shard_size, "--max-shard-size");
}

libquant::jobs::SmoothQuantJobOptions SmoothQuantFlags::job_options(const std::string& model,
                                                                    const std::filesystem::path& output,
                                                                    unsigned threads) const {
  libquant::jobs::SmoothQuantJobOptions o;
  o.model = model;
  o.output = output;
  o.smooth = smoothquant;
  if (alpha == "auto")
    o.alpha.reset();
  else if (!alpha.empty())
    o.alpha = std::stod(alpha);
  o.static_activations = static_activations;
  o.smooth_down = smooth_down;
  o.calibration_data = calibration_data;
  o.calibration_samples = calibration_samples;
  o.seq_len = seq_len;
  o.batch = batch;
  o.max_shard_bytes = parse_size(max_shard_size, "--max-shard-size");
  o.threads = threads;
  return o;
}

namespace {
std::string alpha_text(const libquant::methods::GroupPlan& g) {
  if (!g.alpha) return "none";
  char b[16];
  std::snprintf(b, sizeof b, "%.2f", *g.alpha);
  return b;
}
}  // namespace

void print_smoothquant_result(const GlobalOptions& g, const libquant::jobs::SmoothQuantJobResult& r,
                              const libquant::jobs::QualityGateResult& gates) {
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    libquant::jobs::write_json(j, r);
    libquant::jobs::write_json(j, gates);
    j.end_object();
    print_json(j);
    return;
  }
  bool any_search = false;
  for (const auto& s : r.groups) any_search |= s.error >= 0;
  if (!r.groups.empty() && (any_search || libquant::verbosity() >= libquant::Verbosity::Verbose)) {
    std::printf("%-24s %6s %14s %14s\n", "group", "alpha", "int8 error", "unsmoothed");
    for (const auto& s : r.groups) {
      if (s.error >= 0)
        std::printf("%-24s %6s %14.4g %14.4g\n", s.group.norm.c_str(), alpha_text(s).c_str(), s.error,
                    s.error_unsmoothed);
      else
        std::printf("%-24s %6s\n", s.group.norm.c_str(), alpha_text(s).c_str());
    }
  }
  for (const auto& c : r.alpha_candidates) std::printf("%-26s KL %.6f\n", c.name.c_str(), c.kl);
  libquant::log_info("Complete: " + r.output.string() + " (" + human_size(r.output_bytes) + ", W8A8 " +
                     r.activation_scheme + ")");
  std::cout << r.output.string() << "\n";
}

}  // namespace cli
