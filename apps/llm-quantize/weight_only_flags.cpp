#include "weight_only_flags.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/core/log.hpp"

namespace cli {
using libquant::Error;
using libquant::ErrorCode;

void WeightOnlyFlags::add_to(CLI::App* sub) {
  sub->add_option("--group-size", group_size,
                  "gptq, awq: input columns sharing one scale (32, 64, 128, ...; -1 = one scale per output channel); "
                  "must divide every linear's inputs")
      ->capture_default_str();
  sub->add_flag("--act-order", act_order,
                "gptq: quantize columns in order of decreasing activation energy, with static groups (llm-compressor's "
                "actorder \"weight\"; the checkpoint format does not change)");
  sub->add_option("--damp", damp, "gptq: Hessian dampening, a fraction of its mean diagonal")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  sub->add_flag("--asym", asymmetric,
                "gptq: asymmetric integers with a zero point per group (gptq default: symmetric)");
  sub->add_flag("--sym", symmetric, "awq: symmetric integers (awq default: asymmetric, as AutoAWQ)");
  sub->add_flag("--rtn", rtn, "gptq format: round to nearest instead of GPTQ (no calibration)");
  sub->add_option("--layout", layout,
                  "gptq, awq: how the checkpoint stores the integers: compressed-tensors (pack-quantized: vLLM, "
                  "llm-compressor), gptq (qweight/qzeros/scales/g_idx: AutoGPTQ, GPTQModel) or awq (AutoAWQ GEMM, "
                  "4-bit with groups); gptq/awq keep f16 scales")
      ->capture_default_str()
      ->check(CLI::IsMember({"compressed-tensors", "gptq", "awq"}));
  sub->add_option("--awq-search-samples", awq_search_samples,
                  "awq: calibration sequences the block output error of each scale candidate is measured on")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
}

void WeightOnlyFlags::validate() const {  // which format each flag is for: format_flags.cpp
  if (group_size != -1 && group_size <= 0)
    throw Error(ErrorCode::InvalidArgument, "--group-size " + std::to_string(group_size) + " is not valid",
                "Use -1 (per channel) or a positive size such as 32, 64 or 128");
}

int WeightOnlyFlags::bits_of(const std::string& level) {
  std::string l = level;
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l.empty()) return 4;
  for (int b : {2, 3, 4, 8})
    for (const std::string& form :
         {std::to_string(b) + "bit", "w" + std::to_string(b) + "a16", "int" + std::to_string(b)})
      if (l == form) return b;
  throw Error(ErrorCode::InvalidArgument, "gptq/awq quantization level '" + level + "' is not known",
              "Use -q 4bit (W4A16), 8bit, 3bit or 2bit");
}

libquant::jobs::WeightOnlyJobOptions WeightOnlyFlags::job_options(const std::string& model,
                                                                  const std::filesystem::path& output,
                                                                  const std::string& format, int bits,
                                                                  const SmoothQuantFlags& calibration,
                                                                  unsigned threads) const {
  libquant::jobs::WeightOnlyJobOptions o;
  o.model = model;
  o.output = output;
  using libquant::jobs::WeightOnlyMethod;
  o.method = format == "awq" ? WeightOnlyMethod::Awq : rtn ? WeightOnlyMethod::Rtn : WeightOnlyMethod::Gptq;
  using libquant::jobs::WeightOnlyLayout;
  o.layout = layout == "gptq"  ? WeightOnlyLayout::Gptq
             : layout == "awq" ? WeightOnlyLayout::Awq
                               : WeightOnlyLayout::CompressedTensors;
  o.bits = bits;
  o.group_size = group_size;
  o.symmetric = format == "awq" ? symmetric : !asymmetric;
  o.awq_search_samples = awq_search_samples;
  o.act_order = act_order ? libquant::methods::ActOrder::Static : libquant::methods::ActOrder::None;
  o.damp = damp;
  o.calibration_data = calibration.calibration_data;
  o.calibration_samples = calibration.calibration_samples;
  o.seq_len = calibration.seq_len;
  o.batch = calibration.batch;
  o.max_shard_bytes = parse_size(calibration.max_shard_size, "--max-shard-size");
  o.threads = threads;
  return o;
}

void print_weight_only_result(const GlobalOptions& g, const libquant::jobs::WeightOnlyJobResult& r,
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
  if (libquant::verbosity() >= libquant::Verbosity::Verbose) {
    for (const auto& a : r.awq)
      std::printf("%-28s ratio %.3f%s error %.4g (unscaled %.4g)\n", a.smooth.c_str(), a.ratio, a.duo ? " duo" : "",
                  a.error, a.error_unscaled);
  }
  if (libquant::verbosity() >= libquant::Verbosity::Verbose && r.awq.empty())
    for (const auto& l : r.linears) std::printf("%-32s loss %12.5g damp %g\n", l.name.c_str(), l.loss, l.damp);
  libquant::log_info("Complete: " + r.output.string() + " (" + human_size(r.output_bytes) + ", " + r.scheme + ")");
  std::cout << r.output.string() << "\n";
}

}  // namespace cli
