// `llm-quantize quantize MODEL FORMAT -q LEVEL`: flag parsing only; the work is
// libquant::jobs::convert_to_gguf (gguf), libquant::jobs::smoothquant_w8a8
// (smoothquant: W8A8 compressed-tensors) or libquant::jobs::quantize_weight_only
// (gptq: W4A16 and friends, compressed-tensors pack-quantized).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "checkpoint_flags.hpp"
#include "commands.hpp"
#include "environment.hpp"
#include "hub_models.hpp"
#include "flag_checks.hpp"
#include "format_flags.hpp"
#include "smoothquant_flags.hpp"
#include "tensor_type_flags.hpp"
#include "gguf_output_flags.hpp"
#include "weight_only_flags.hpp"
#include "libquant/core/dtype.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/eval/coherence.hpp"
#include "libquant/gguf/mixture.hpp"
#include "libquant/jobs/auto_imatrix.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/quality_gates.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/jobs/quality_report.hpp"

namespace cli {
namespace fs = std::filesystem;
using libquant::Error;
using libquant::ErrorCode;

namespace {

struct QuantizeOptions {
  std::string model;
  std::string format;
  std::string level;
  std::string output_dir = ".";
  std::string output_name;
  unsigned threads = 0;
  std::string imatrix;
  bool leave_output_tensor = false, pure = false, allow_requantize = false;
  std::string output_tensor_type, token_embedding_type, ternary_format = "tq1_0";
  std::vector<std::string> tensor_types;
  std::string tensor_type_file;
  std::optional<std::string> prune_layers;
  std::vector<std::string> include_weights, exclude_weights;
  std::vector<std::string> override_kv;
  bool dry_run = false;
  bool no_auto_imatrix = false;
  bool keep_split = false;
  std::optional<double> target_bpw;
  std::optional<uint64_t> target_size_bytes;
  int64_t sample_rows = 256;
  bool gptq = false;
  bool damp_given = false;  // --damp on the command line (gguf --gptq has its own default)
  std::string error_metric = "absolute";
  int64_t kl_tokens = 0;
  std::string kl_data;
  std::string profile;
  bool protect_super_weights = false;
  bool quality_report = false, coherence_check = false;
  std::string quality_data;
  int64_t quality_chunks = 8;
  std::string super_weights;
  double protection_coverage = 0.0001;
  std::vector<std::string> candidates;
  CheckpointFlags checkpoints;
  SmoothQuantFlags smoothquant;
  WeightOnlyFlags weight_only;
};

// --quality-report / --coherence-check on the written file, thresholds from
// LLM_QUANTIZE_QUALITY_THRESHOLD (percent, default 20) and
// LLM_QUANTIZE_COHERENCE_THRESHOLD (default 0.5): exit 11 / 12 with the file kept.
libquant::jobs::QualityGateResult run_quality_gates(const QuantizeOptions& o, const fs::path& output,
                                                    libquant::ProgressSink& progress) {
  libquant::jobs::QualityGateOptions q;
  q.original = o.model;
  q.output = output;
  q.perplexity = o.quality_report;
  q.max_perplexity_rise_pct = env::number("LLM_QUANTIZE_QUALITY_THRESHOLD").value_or(q.max_perplexity_rise_pct);
  q.data = o.quality_data;
  q.chunks = o.quality_chunks;
  q.coherence = o.coherence_check;
  q.min_coherence = env::number("LLM_QUANTIZE_COHERENCE_THRESHOLD").value_or(q.min_coherence);
  q.threads = o.threads;
  q.progress = &progress;
  return libquant::jobs::run_quality_gates(q);
}

// -q dynamic: the per-tensor table (type, bits, parameters, ratio to f16, estimated error).
void print_dynamic_table(const libquant::jobs::ConvertToGgufResult& res) {
  std::printf("%-32s %-8s %6s %12s %8s %12s\n", "tensor", "type", "bits", "parameters", "vs f16", "est. error");
  for (const auto& t : res.tensors) {
    if (t.estimated_error < 0) continue;
    const double bits = libquant::bits_per_weight(t.type);
    std::printf("%-32s %-8s %6.3f %12lld %7.2fx %12.4g\n", t.name.c_str(),
                std::string(libquant::traits(t.type).name).c_str(), bits, static_cast<long long>(t.shape.numel()),
                16.0 / bits, t.estimated_error);
  }
}

// Quantizes. A type that needs an imatrix when none is given gets one computed
// on the way (--calibration-data, else calibration.txt beside the model, else
// the bundled text) and cached by model and text; --no-auto-imatrix keeps
// exit 10. Whether one is needed is known once the types are planned; the
// common run plans once: only a run that stops for want of importance data
// (or one given a text for it, which must be used) plans separately.
libquant::jobs::ConvertToGgufResult convert_with_auto_imatrix(const QuantizeOptions& o,
                                                              libquant::jobs::ConvertToGgufOptions& opts, bool dynamic,
                                                              libquant::ProgressSink& progress,
                                                              std::optional<libquant::jobs::AutoImatrixResult>& made) {
  const bool text_given = !o.smoothquant.calibration_data.empty() && !o.gptq;
  const bool may_compute = !opts.imatrix && !o.no_auto_imatrix && !dynamic;
  if (text_given && !may_compute)
    throw Error(ErrorCode::InvalidArgument,
                "--calibration-data does nothing here: gguf uses it for --gptq and for an imatrix computed when "
                "none is given",
                "Drop --calibration-data");
  if (!may_compute) return libquant::jobs::convert_to_gguf(opts);
  if (!text_given) {
    try {
      return libquant::jobs::convert_to_gguf(opts);
    } catch (const Error& e) {  // refused before anything was written
      if (e.code() != ErrorCode::ImatrixInvalid || !libquant::jobs::plan_gguf(opts).needs_importance) throw;
    }
  } else if (!libquant::jobs::plan_gguf(opts).needs_importance) {
    throw Error(ErrorCode::InvalidArgument,
                "--calibration-data does nothing here: " + opts.file_type +
                    " needs no importance matrix for this model (gguf calibrates only for --gptq and for an "
                    "imatrix computed when a type needs one)",
                "Drop --calibration-data, or add --gptq");
  }
  libquant::jobs::AutoImatrixOptions a;
  a.model = opts.input;
  a.data = o.smoothquant.calibration_data;
  a.cache_dir = env::imatrix_cache_dir();
  a.threads = o.threads;
  a.progress = &progress;
  made = libquant::jobs::cached_importance_matrix(a);
  opts.imatrix = made->path;
  return libquant::jobs::convert_to_gguf(opts);
}

void write_auto_imatrix(libquant::JsonWriter& j, const libquant::jobs::AutoImatrixResult& a) {
  j.key("auto_imatrix")
      .begin_object()
      .field("path", fs::absolute(a.path).string())
      .field("calibration_data", a.data.empty() ? std::string("bundled") : fs::absolute(a.data).string())
      .field("from_cache", a.from_cache)
      .field("chunks", a.chunks)
      .field("duration_seconds", a.duration_seconds)
      .end_object();
}

// --dry-run: every tensor's type and bytes, the exact file size, and what a real run would need.
int print_gguf_plan(const GlobalOptions& g, const libquant::jobs::ConvertToGgufResult& plan) {
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    libquant::jobs::ResultJsonOptions detail;
    detail.per_tensor = true;
    detail.dry_run = true;
    libquant::jobs::write_json(j, plan, detail);
    j.end_object();
    print_json(j);
    return 0;
  }
  std::printf("%-36s %-8s %-20s %12s\n", "tensor", "type", "shape", "MiB");
  for (const auto& t : plan.tensors)
    std::printf("%-36s %-8s %-20s %12.3f\n", t.name.c_str(), std::string(libquant::traits(t.type).name).c_str(),
                t.shape.to_string().c_str(),
                static_cast<double>(libquant::storage_bytes(t.type, t.shape.numel())) / 1048576.0);
  const double bpw = plan.effective_bpw();
  std::printf("model size %.2f MiB, output %.2f MiB (%.2f bits per weight, whole file); nothing written\n",
              static_cast<double>(plan.original_size) / 1048576.0, static_cast<double>(plan.file_size) / 1048576.0,
              bpw);
  for (const auto& n : plan.notes) libquant::log_warning(n);
  return 0;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

fs::path output_path_for(const QuantizeOptions& o, const std::string& level) {
  std::string name = o.output_name;
  if (name.empty()) {
    name = model_stem(o.model) + "-" + level + ".gguf";
  } else if (fs::path(name).extension() != ".gguf") {
    name += ".gguf";
  }
  return fs::path(o.output_dir) / name;
}

// Both formats write into --output-dir, which must exist.
void require_output_dir(const QuantizeOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.output_dir, ec))
    throw Error(ErrorCode::General, "output directory '" + o.output_dir + "' does not exist",
                "Create it first or pass another --output-dir");
}

// `quantize MODEL smoothquant [--smoothquant [--alpha A|auto]]`: a W8A8
// compressed-tensors checkpoint directory, <model>-W8A8 by default.
int run_smoothquant(const GlobalOptions& g, const QuantizeOptions& o) {
  if (!o.level.empty() && upper(o.level) != "W8A8" && upper(o.level) != "INT8")
    throw Error(ErrorCode::InvalidArgument, "smoothquant writes W8A8 only, not '" + o.level + "'",
                "Drop -q or use -q W8A8");
  require_output_dir(o);
  std::string name = o.output_name;
  if (name.empty()) name = model_stem(o.model) + (o.smoothquant.smoothquant ? "-W8A8-smoothquant" : "-W8A8");
  libquant::TerminalProgress progress(progress_enabled(g));
  auto opts = o.smoothquant.job_options(o.model, fs::path(o.output_dir) / name, o.threads);
  opts.progress = &progress;
  opts.checkpoint_dir = o.checkpoints.directory();
  opts.resume = o.checkpoints.resuming();
  opts.on_checkpoint = env::kill_when_reached("LLM_QUANTIZE_TEST_KILL_AFTER_SEQUENCES");
  libquant::log_info("Loading model: " + o.model);
  if (!o.smoothquant.smoothquant) libquant::log_info("W8A8 without smoothing (add --smoothquant to smooth first)");
  const auto res = libquant::jobs::smoothquant_w8a8(opts);
  o.checkpoints.tidy(opts.checkpoint_dir);
  print_smoothquant_result(g, res, run_quality_gates(o, res.output, progress));
  return 0;
}

// `quantize MODEL gptq|awq -q 4bit [--group-size G] [--act-order] [--rtn] [--layout L]`:
// a checkpoint directory (compressed-tensors pack-quantized, or GPTQ's / AWQ's
// own layout), <model>-W4A16-G128[-rtn|-awq][-gptq-layout|-awq-layout] by default.
int run_weight_only(const GlobalOptions& g, const QuantizeOptions& o) {
  const int bits = WeightOnlyFlags::bits_of(o.level);
  require_output_dir(o);
  std::string name = o.output_name;
  if (name.empty()) {
    name = model_stem(o.model) + "-W" + std::to_string(bits) + "A16";
    name += o.weight_only.group_size > 0 ? "-G" + std::to_string(o.weight_only.group_size) : std::string("-channel");
    if (o.weight_only.rtn) name += "-rtn";
    if (o.format == "awq") name += "-awq";
    if (o.weight_only.layout != "compressed-tensors") name += "-" + o.weight_only.layout + "-layout";
  }
  libquant::TerminalProgress progress(progress_enabled(g));
  auto opts =
      o.weight_only.job_options(o.model, fs::path(o.output_dir) / name, o.format, bits, o.smoothquant, o.threads);
  opts.progress = &progress;
  libquant::log_info("Loading model: " + o.model);
  const auto res = libquant::jobs::quantize_weight_only(opts);
  print_weight_only_result(g, res, run_quality_gates(o, res.output, progress));
  return 0;
}

int run_quantize(const GlobalOptions& g, const QuantizeOptions& o) {
  o.smoothquant.validate(o.format);
  o.weight_only.validate();
  if (o.format == "smoothquant") return run_smoothquant(g, o);
  if (o.format == "gptq" || o.format == "awq") return run_weight_only(g, o);
  if (o.format != "gguf")
    throw Error(ErrorCode::UnsupportedConversion, "output format '" + o.format + "' is not implemented yet",
                "Use 'gguf', 'smoothquant', 'gptq' or 'awq'");
  if (o.level.empty())
    throw Error(ErrorCode::InvalidArgument, "gguf needs a quantization level (-q)", "Example: -q Q4_K_M");
  const std::string level = upper(o.level) == "DYNAMIC" ? "dynamic" : upper(o.level);
  // Any llama-quantize type name the library knows, and the tool's TERNARY and dynamic.
  if (level != "TERNARY" && level != "dynamic" && !libquant::gguf::find_file_type(level))
    throw Error(ErrorCode::InvalidArgument, "unknown GGUF quantization level '" + o.level + "'",
                "Use a llama-quantize type name such as Q4_K_M, Q8_0 or F16");
  std::string file_type = level;
  if (level == "TERNARY") {
    const std::string tf = upper(o.ternary_format);
    if (tf != "TQ1_0" && tf != "TQ2_0")
      throw Error(ErrorCode::InvalidArgument, "unknown --ternary-format '" + o.ternary_format + "'",
                  "Use tq1_0 or tq2_0");
    file_type = tf;
  }
  if (level != "dynamic" && !o.profile.empty())
    throw Error(ErrorCode::InvalidArgument, "--profile needs -q dynamic", "Use -q dynamic --profile " + o.profile);
  if (level != "dynamic" && (o.target_bpw || o.target_size_bytes))
    throw Error(ErrorCode::InvalidArgument, "--target-bpw / --target-size-bytes need -q dynamic",
                "Use -q dynamic --target-bpw B, or drop the target");
  if (o.target_bpw && o.target_size_bytes)
    throw Error(ErrorCode::InvalidArgument, "--target-bpw and --target-size-bytes exclude each other",
                "Give one target");
  require_output_dir(o);

  libquant::TerminalProgress progress(progress_enabled(g));
  libquant::jobs::ConvertToGgufOptions opts = libquant::jobs::ConvertToGgufOptions::defaults();
  opts.input = o.model;
  opts.model_name = hub_display_name(o.model);  // a hub snapshot is named by its commit
  opts.output = output_path_for(o, level);
  opts.file_type = file_type;
  opts.threads = o.threads;
  if (!o.imatrix.empty()) opts.imatrix = o.imatrix;
  opts.leave_output_tensor = o.leave_output_tensor;
  opts.pure = o.pure;
  opts.allow_requantize = o.allow_requantize;
  if (!o.output_tensor_type.empty())
    opts.output_tensor_type = parse_ggml_type(o.output_tensor_type, "--output-tensor-type");
  if (!o.token_embedding_type.empty())
    opts.token_embedding_type = parse_ggml_type(o.token_embedding_type, "--token-embedding-type");
  opts.tensor_types = parse_tensor_type_overrides(o.tensor_types, o.tensor_type_file);
  if (o.prune_layers) opts.prune_layers = parse_prune_layers(*o.prune_layers);
  if ((!o.include_weights.empty() || !o.exclude_weights.empty()) && o.imatrix.empty())
    throw Error(ErrorCode::InvalidArgument, "--include-weights / --exclude-weights select entries of --imatrix",
                "Add --imatrix FILE");
  opts.keep_split = o.keep_split;
  opts.imatrix_include = o.include_weights;
  opts.imatrix_exclude = o.exclude_weights;
  opts.metadata_overrides = parse_metadata_overrides(o.override_kv);
  if (!o.profile.empty()) opts.profile = libquant::methods::load_profile(o.profile, env::profile_dirs());
  if (!o.super_weights.empty() && !o.protect_super_weights)
    throw Error(ErrorCode::InvalidArgument, "--super-weights needs --protect-super-weights",
                "Add --protect-super-weights");
  if (o.protect_super_weights) {  // the library refuses it without --imatrix
    opts.super_weights =
        o.super_weights.empty() ? fs::path(o.imatrix + ".super_weights.json") : fs::path(o.super_weights);
    opts.protection_coverage = o.protection_coverage;
  }
  if (level == "dynamic" && (o.target_bpw || o.target_size_bytes || !o.candidates.empty() || o.profile.empty())) {
    libquant::jobs::DynamicQuantOptions d;
    d.target_bpw = o.target_bpw;
    d.target_size_bytes = o.target_size_bytes;
    d.sample_rows = o.sample_rows;
    d.error_metric = o.error_metric;
    d.kl_tokens = o.kl_tokens;
    d.kl_data = o.kl_data;
    for (const auto& c : o.candidates) d.candidates.push_back(parse_ggml_type(c, "--candidates"));
    opts.dynamic = d;
  }
  if (o.gptq) {
    libquant::jobs::GgufGptqOptions go;
    go.calibration_data = o.smoothquant.calibration_data;
    go.calibration_samples = o.smoothquant.calibration_samples;
    go.seq_len = o.smoothquant.seq_len;
    go.batch = o.smoothquant.batch;
    if (o.damp_given) go.damp = o.weight_only.damp;
    opts.gptq = go;
  }
  opts.checkpoint_dir = o.checkpoints.directory();
  opts.resume = o.checkpoints.resuming();
  opts.on_data_written = env::kill_when_reached("LLM_QUANTIZE_TEST_KILL_AT_BYTES");
  opts.progress = &progress;
  libquant::log_info("Loading model: " + o.model);
  if (o.dry_run && (o.quality_report || o.coherence_check))
    throw Error(ErrorCode::InvalidArgument,
                "--dry-run writes no file for --quality-report / --coherence-check to check",
                "Drop --dry-run, or the checks");
  if (o.dry_run) return print_gguf_plan(g, libquant::jobs::plan_gguf(opts));
  libquant::log_info("Quantizing to GGUF " + file_type);
  std::optional<libquant::jobs::AutoImatrixResult> auto_imatrix;
  const auto res = convert_with_auto_imatrix(o, opts, level == "dynamic", progress, auto_imatrix);
  o.checkpoints.tidy(opts.checkpoint_dir);

  const auto gates = run_quality_gates(o, res.output_path, progress);

  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    libquant::jobs::ResultJsonOptions detail;
    detail.per_tensor = libquant::verbosity() >= libquant::Verbosity::Verbose;
    libquant::jobs::write_json(j, res, detail);
    if (auto_imatrix) write_auto_imatrix(j, *auto_imatrix);
    libquant::jobs::write_json(j, gates);
    j.end_object();
    print_json(j);
  } else {
    if (level == "dynamic") print_dynamic_table(res);
    libquant::log_info("Complete: " + res.output_path.string() + " (" + human_size(res.file_size) + ")");
    if (res.shards.empty()) std::cout << res.output_path.string() << "\n";
    for (const auto& shard : res.shards) std::cout << shard.string() << "\n";
  }
  return res.output_valid ? 0 : static_cast<int>(ErrorCode::ValidationFailed);
}

}  // namespace

Command register_quantize(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* sub = app.add_subcommand("quantize", "Quantize or convert a model (HF directory or GGUF file)");
  model_argument(sub->add_option("MODEL", o->model,
                                 "Hugging Face checkpoint directory, .gguf file, or hub id org/name[@revision][:QUANT]")
                     ->required(),
                 &o->model);
  sub->add_option("OUTPUT_FORMAT", o->format,
                  "Target format: gguf (a .gguf file), smoothquant (W8A8 INT8 compressed-tensors checkpoint "
                  "directory), gptq or awq (W4A16 and friends, compressed-tensors pack-quantized directory)")
      ->required();
  sub->add_option("-q,--quant-level", o->level,
                  "Quantization level, e.g. F16, Q8_0, Q4_K_M (gguf); W8A8 (smoothquant); 4bit, 8bit, 3bit, 2bit "
                  "(gptq, awq; default 4bit)");
  sub->add_option("-o,--output-dir", o->output_dir, "Output directory")->capture_default_str();
  sub->add_option("-n,--output-name", o->output_name,
                  "Output file name (default <model>-<LEVEL>.gguf; smoothquant: directory <model>-W8A8[-smoothquant])")
      ->check(cli::plain_file_name());
  sub->add_option("--threads", o->threads, "Worker threads (0 = all cores)")
      ->capture_default_str()
      ->check(cli::thread_count());
  sub->add_option("--imatrix", o->imatrix, "Importance matrix (llama.cpp .dat or GGUF imatrix) for low-bit types");
  sub->add_flag("--leave-output-tensor", o->leave_output_tensor, "Keep output.weight unquantized");
  sub->add_flag("--pure", o->pure, "One type for every quantized tensor (no k-quant mixture rules)");
  sub->add_flag("--allow-requantize", o->allow_requantize, "Allow quantizing an already quantized GGUF (lossy twice)");
  sub->add_option("--output-tensor-type", o->output_tensor_type, "Type for output.weight, e.g. Q8_0");
  sub->add_option("--token-embedding-type", o->token_embedding_type, "Type for token_embd.weight, e.g. Q8_0");
  sub->add_option("--tensor-type", o->tensor_types,
                  "REGEX=TYPE override for matching tensors (repeatable; the first matching pattern wins)");
  sub->add_option("--tensor-type-file", o->tensor_type_file,
                  "File of REGEX=TYPE overrides separated by spaces or newlines (# comments), after --tensor-type's");
  auto* include = sub->add_option("--include-weights", o->include_weights,
                                  "Use the imatrix only for tensors whose names contain this (repeatable)");
  sub->add_option("--exclude-weights", o->exclude_weights,
                  "Do not use the imatrix for tensors whose names contain this (repeatable)")
      ->excludes(include);
  sub->add_option("--prune-layers", o->prune_layers,
                  "Comma-separated layer numbers to leave out; later layers are renumbered and block_count shrinks");
  sub->add_option("--override-kv", o->override_kv,
                  "KEY=TYPE:VALUE metadata set in the output (TYPE int, float, bool or str; repeatable)");
  sub->add_flag(
      "--keep-split", o->keep_split,
      "A split GGUF input (…-00001-of-0000N.gguf) is written as the same shards: NAME-00001-of-0000N.gguf, …");
  sub->add_flag("--no-auto-imatrix", o->no_auto_imatrix,
                "Types that need an imatrix fail without --imatrix (exit 10) instead of computing one "
                "(cached in LLM_QUANTIZE_IMATRIX_CACHE)");
  sub->add_flag("--dry-run", o->dry_run,
                "Print each tensor's type and the output's exact size; write nothing (-q dynamic allocates as usual)");
  sub->add_option("--ternary-format", o->ternary_format, "Format for -q TERNARY: tq1_0 or tq2_0")
      ->capture_default_str();
  sub->add_option("--target-bpw", o->target_bpw,
                  "-q dynamic: bits per weight of the whole file (size = bpw x parameters / 8); types per tensor are "
                  "allocated to minimise the importance-weighted error")
      ->check(cli::finite_range(1.0, 16.0));
  sub->add_option("--target-size-bytes", o->target_size_bytes, "-q dynamic: the file size to stay under, in bytes")
      ->check(CLI::PositiveNumber);
  sub->add_option("--candidates", o->candidates,
                  "-q dynamic: the types to choose from (comma-separated; default: the k-, i- and 32-wide legacy "
                  "types from IQ2_XXS to Q8_0)")
      ->delimiter(',');
  sub->add_option("--profile", o->profile,
                  "-q dynamic: preset (attention-high, balanced, compression-max) or .dqprofile file; its rules pin "
                  "the tensors they match");
  sub->add_flag("--quality-report", o->quality_report,
                "After writing, measure perplexity of the original and the output (exit 11 above "
                "LLM_QUANTIZE_QUALITY_THRESHOLD percent, default 20)");
  sub->add_option("--quality-data", o->quality_data, "Text for --quality-report (default: the bundled text)");
  sub->add_option("--quality-chunks", o->quality_chunks, "Chunks of 512 tokens for --quality-report")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  sub->add_flag("--coherence-check", o->coherence_check,
                "After writing, generate from fixed prompts and score repetition/fluency (exit 12 below "
                "LLM_QUANTIZE_COHERENCE_THRESHOLD, default 0.5)");
  sub->add_flag("--protect-super-weights", o->protect_super_weights,
                "-q dynamic: keep super weights and the most salient weights (needs --imatrix and analyze's "
                "super-weight file)");
  sub->add_option("--super-weights", o->super_weights,
                  "Super-weight JSON from analyze --identify-super-weights (default: IMATRIX.super_weights.json)");
  sub->add_option("--protection-coverage", o->protection_coverage,
                  "Fraction of each weight protected by saliency |w| sqrt(imatrix), (0, 0.01]")
      ->capture_default_str()
      ->check(cli::finite_range(1e-9, 0.01));
  sub->add_option("--error-metric", o->error_metric,
                  "-q dynamic: relative (error / the tensor's weighted energy, per tensor noise-to-signal) or "
                  "absolute (the output error itself)")
      ->capture_default_str()
      ->check(CLI::IsMember({"relative", "absolute"}));
  sub->add_option("--kl-refine", o->kl_tokens,
                  "-q dynamic: measure each weight's effect on the output distribution (KL divergence over this many "
                  "tokens, one forward pass per weight) and allocate by it; 0 = off")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 16));
  sub->add_option("--kl-data", o->kl_data,
                  "-q dynamic --kl-refine: text for the KL probes (default: the bundled text)");
  sub->add_option("--sample-rows", o->sample_rows, "-q dynamic: rows per tensor whose error is measured")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_flag("--gptq", o->gptq,
                "gguf: GPTQ error feedback with the GGUF codecs (calibration: --calibration-*, --damp; "
                "the imatrix stays the codecs' importance)");
  o->checkpoints.add_to(sub);
  o->smoothquant.add_to(sub);
  o->weight_only.add_to(sub);
  return {sub, [&g, o, sub] {
            reject_flags_outside_format(*sub, o->format);
            reject_gguf_calibration_without_gptq(*sub, o->format, o->gptq);
            o->damp_given = sub->get_option("--damp")->count() > 0;
            return run_quantize(g, *o);
          }};
}

}  // namespace cli
