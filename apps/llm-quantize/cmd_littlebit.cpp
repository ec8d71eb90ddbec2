// `llm-quantize littlebit compress | info | convert | validate`: sub-1-bit
// LittleBit factorization (docs/cli.md). Flag parsing and printing only; the
// work is libquant::jobs::littlebit_* and jobs::quality_report.
#include <cstdio>
#include <iostream>
#include <optional>

#include "checkpoint_flags.hpp"
#include "commands.hpp"
#include "environment.hpp"
#include "hub_models.hpp"
#include "flag_checks.hpp"
#include "format_flags.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/eval/coherence.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/jobs/quality_report.hpp"

namespace cli {
namespace fs = std::filesystem;
using libquant::Error;
using libquant::ErrorCode;
namespace jobs = libquant::jobs;

namespace {

struct LittleBitFlags {
  std::string model, output_dir = ".", output_name, format = "littlebit", calibration_data, validation_data;
  double target_bpw = 0.5;
  std::optional<int64_t> rank;
  std::optional<double> quality_threshold;
  int64_t calibration_samples = 16, seq_len = 512, refine_steps = 100, refine_rows = 2048, validation_chunks = 8;
  bool sequential = false;
  std::optional<int64_t> block_steps;  // default: the library's
  int64_t block_samples = 2;
  double block_lr = 0.03, block_latent_lr = 0.0;
  bool no_residual = false, no_refine = false, skip_validation = false, layers = false, force = false,
       coherence = false;
  std::string keep_type = "F16", gguf_quant = "Q4_K_M", benchmark = "wikitext";
  double kv_factor = 1.0;
  uint64_t seed = 0;
  CheckpointFlags ckpt;
  unsigned threads = 0;
  // info / convert / validate
  std::string file, original, compressed;
};

// "0.5bpw" or "r64" for default output names.
std::string jobs_bpw_tag(const LittleBitFlags& f) {
  if (f.rank) return "r" + std::to_string(*f.rank);
  char b[32];
  std::snprintf(b, sizeof b, "%gbpw", f.target_bpw);
  return b;
}

std::string extension_for(const std::string& format) { return format == "littlebit" ? ".littlebit" : ".gguf"; }

// OUTPUT_DIR/NAME with the format's extension added unless NAME already ends
// with it ("m-0.5bpw" has no extension of ours, whatever the path library says).
fs::path output_path(const LittleBitFlags& f, const std::string& name) {
  const std::string ext = extension_for(f.format);
  return fs::path(f.output_dir) / (name.ends_with(ext) && name != ext ? name : name + ext);
}

// A file name without our extensions (.littlebit, .gguf) only.
std::string without_our_extension(const fs::path& file) {
  std::string name = file.filename().string();
  for (const std::string ext : {".littlebit", ".gguf"})
    if (name.ends_with(ext) && name != ext) return name.substr(0, name.size() - ext.size());
  return name;
}

int run_compress(const GlobalOptions& g, const LittleBitFlags& f) {
  jobs::LittleBitCompressOptions o;
  o.model = f.model;
  o.format = f.format;
  const std::string name =
      f.output_name.empty() ? model_stem(f.model) + "-littlebit-" + jobs_bpw_tag(f) : f.output_name;
  o.output = output_path(f, name);
  o.target_bpw = f.target_bpw;
  o.rank = f.rank;
  o.quality_threshold = f.quality_threshold;
  o.residual = !f.no_residual;
  o.kv_factor = f.kv_factor;
  o.refine = !f.no_refine;
  o.refine_options.steps = static_cast<int>(f.refine_steps);
  o.refine_rows = f.refine_rows;
  o.seed = f.seed;
  o.sequential = f.sequential;
  if (f.block_steps) {
    libquant::check(!f.no_refine || *f.block_steps == 0, libquant::ErrorCode::InvalidArgument,
                    "block-output matching needs the refinement's calibration pass",
                    "Drop --no-refine or --block-steps");
    o.block_options.steps = static_cast<int>(*f.block_steps);
  }
  o.block_options.lr = f.block_lr;
  o.block_options.latent_lr = f.block_latent_lr;
  o.block_samples = f.block_samples;
  o.calibration_data = f.calibration_data;
  o.calibration_samples = f.calibration_samples;
  o.seq_len = f.seq_len;
  o.keep_type = parse_ggml_type(f.keep_type, "--keep-type");
  o.lossy_type = f.gguf_quant;
  o.validate = !f.skip_validation || f.quality_threshold.has_value();
  o.validation_data = f.validation_data;
  o.validation_chunks = f.validation_chunks;
  o.checkpoint_dir = f.ckpt.directory();
  o.resume = f.ckpt.resuming();
  o.on_checkpoint = env::kill_when_reached("LLM_QUANTIZE_TEST_KILL_AFTER_LAYERS");
  env::apply_littlebit(o);
  o.threads = f.threads;
  jobs::check_littlebit_options(o);  // before anything is logged
  libquant::TerminalProgress progress(progress_enabled(g));
  o.progress = &progress;
  libquant::log_info("LittleBit compression: " + f.model);
  libquant::log_info(std::string("Target: ") +
                     (f.rank ? "rank " + std::to_string(*f.rank) : std::to_string(f.target_bpw) + " BPW") +
                     ", Format: " + f.format + ", refinement: " +
                     (!o.refine                   ? "none (Dual-SVID only)"
                      : o.block_options.steps > 0 ? "activation-aware + block-output matching"
                                                  : "activation-aware"));
  const jobs::LittleBitCompressResult r = jobs::littlebit_compress(o);
  f.ckpt.tidy(o.checkpoint_dir);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    jobs::write_json(j, r);
    j.end_object();
    print_json(j);
    return 0;
  }
  for (const auto& l : r.layers)
    libquant::log_verbose("  " + l.name + ": rank=" + std::to_string(l.rank) + ", bpw=" + std::to_string(l.bpw) +
                          ", error=" + std::to_string(l.weight_error));
  std::printf(
      "Achieved: %.4f BPW (linear layers), %.1fx smaller than the input file, linear layers %.1fx smaller than fp16\n",
      r.achieved_bpw, r.compression_ratio, r.linear_reduction_vs_fp16);
  if (r.validated)
    std::printf("Quality: perplexity %.3f -> %.3f (%+.1f%%)%s\n", r.perplexity_original, r.perplexity_compressed,
                r.perplexity_delta_pct,
                r.rank_rounds ? (" after " + std::to_string(r.rank_rounds) + " rank raise(s)").c_str() : "");
  std::printf("Complete: %s (%s) in %.1f s\n", r.output_path.string().c_str(),
              human_size(r.compressed_size_bytes).c_str(), r.duration_seconds);
  return 0;
}

int run_info(const GlobalOptions& g, const LittleBitFlags& f) {
  const jobs::LittleBitInfo I = jobs::littlebit_info(f.file);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object();
    jobs::ResultJsonOptions detail;
    detail.per_tensor = f.layers;
    jobs::write_json(j, I, detail);
    j.end_object();
    print_json(j);
    return 0;
  }
  std::printf("File: %s\nFormat: %s v%u\nSource: %s\nArchitecture: %s\nRefinement: %s\n\n", I.file.string().c_str(),
              I.format == "littlebit" ? "LittleBit Native" : "LittleBit GGUF extension", I.format_version,
              I.source_model.c_str(), I.architecture.c_str(), I.refinement.c_str());
  std::printf(
      "Compression:\n  Target BPW: %g\n  Achieved BPW: %.4f\n  Compression Ratio: %.1fx\n  Original Size: %s\n"
      "  Compressed Size: %s\n\n",
      I.target_bpw, I.achieved_bpw, I.compression_ratio, human_size(I.original_size_bytes).c_str(),
      human_size(I.compressed_size_bytes).c_str());
  std::printf("Layers: %lld\n  Average Rank: %.1f\n  Min Rank: %lld (%s)\n  Max Rank: %lld (%s)\n",
              static_cast<long long>(I.num_layers), I.average_rank, static_cast<long long>(I.min_rank),
              I.min_rank_layer.c_str(), static_cast<long long>(I.max_rank), I.max_rank_layer.c_str());
  if (f.layers) {
    std::printf("\n  %-28s %11s %6s %7s %8s %8s\n", "tensor", "shape", "rank", "bpw", "w.err", "out.err");
    for (const auto& l : I.layers)
      std::printf("  %-28s %5lldx%-5lld %6lld %7.4f %8.4f %8.4f\n", l.name.c_str(), static_cast<long long>(l.out),
                  static_cast<long long>(l.in), static_cast<long long>(l.rank), l.bpw, l.weight_error, l.output_error);
  }
  return 0;
}

int run_convert(const GlobalOptions& g, const LittleBitFlags& f) {
  if (f.format != "littlebit" && f.format != "gguf-ext" && f.format != "gguf-lossy")
    throw Error(ErrorCode::InvalidArgument,
                "OUTPUT_FORMAT must be littlebit, gguf-ext or gguf-lossy, not '" + f.format + "'",
                "gguf-lossy loads in any llama.cpp; gguf-ext keeps the factors in a GGUF container");
  if (f.format == "gguf-lossy" && !f.force)
    throw Error(ErrorCode::CancelledAfterQualityWarning,
                "gguf-lossy re-quantizes the reconstructed weights to " + f.gguf_quant + ", which loses quality twice",
                "Pass --force to convert anyway");
  jobs::LittleBitConvertOptions o;
  o.input = f.file;
  o.format = f.format;
  o.gguf_type = f.gguf_quant;
  o.threads = f.threads;
  const std::string stem = without_our_extension(f.file);
  const std::string name = f.output_name.empty() ? stem + (f.format == "gguf-lossy" ? "-" + f.gguf_quant
                                                           : f.format == "gguf-ext" ? "-ext"
                                                                                    : "")
                                                 : f.output_name;
  o.output = output_path(f, name);
  if (fs::equivalent(fs::path(f.file), o.output.parent_path() / o.output.filename()))
    throw Error(ErrorCode::InvalidArgument, "the output would overwrite the input", "Pass another --output-name");
  libquant::TerminalProgress progress(progress_enabled(g));
  o.progress = &progress;
  const auto r = jobs::littlebit_convert(o);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    jobs::write_json(j, r);
    j.end_object();
    print_json(j);
  } else {
    std::printf("Complete: %s (%s)\n", r.output_path.string().c_str(), human_size(r.output_size_bytes).c_str());
  }
  return 0;
}

int run_validate(const GlobalOptions& g, const LittleBitFlags& f) {
  if (f.benchmark != "wikitext")
    throw Error(ErrorCode::InvalidArgument, "--benchmark '" + f.benchmark + "' is not available",
                "Only wikitext (perplexity on --calibration-data or the bundled text) is implemented");
  jobs::QualityReportOptions q;
  q.original = f.original;
  q.quantized = f.compressed;
  q.data = f.calibration_data;
  q.chunks = f.validation_chunks;
  q.threads = f.threads;
  libquant::TerminalProgress progress(progress_enabled(g));
  q.progress = &progress;
  const jobs::QualityReport r = jobs::quality_report(q);
  std::optional<libquant::eval::CoherenceResult> coh;
  if (f.coherence) {
    libquant::eval::CoherenceOptions c;
    c.model = f.compressed;
    c.reference = f.original;
    c.threads = f.threads;
    coh = libquant::eval::coherence_check(c);
  }
  const double d = r.perplexity_delta_pct;
  const std::string verdict = d <= 10 ? "GOOD" : d <= 100 ? "ACCEPTABLE" : "POOR";
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object()
        .field("status", "success")
        .field("original", f.original)
        .field("compressed", f.compressed)
        .field("perplexity_original", r.perplexity_original)
        .field("perplexity_compressed", r.perplexity_quantized)
        .field("perplexity_delta_pct", d)
        .field("mean_kld", r.mean_kld)
        .field("same_top_p", r.same_top_p)
        .field("chunks", r.chunks)
        .field("verdict", verdict);
    if (coh) j.key("coherence").begin_object().field("score", coh->score).field("passed", coh->passed).end_object();
    j.end_object();
    print_json(j);
    return 0;
  }
  std::printf(
      "Validation: %s vs %s\n\nQuality Metrics:\n  Perplexity (Original): %.3f\n  Perplexity (Compressed): %.3f\n"
      "  Perplexity Delta: %+.1f%%\n  Mean KL divergence: %.4f\n  Same top-1 token: %.1f%%\n",
      f.compressed.c_str(), f.original.c_str(), r.perplexity_original, r.perplexity_quantized, d, r.mean_kld,
      100 * r.same_top_p);
  if (coh) {
    int ok = 0;
    for (const auto& s : coh->samples) ok += s.score >= 0.5;
    std::printf("\nCoherence Test: %s (%d/%zu prompts coherent)\n", coh->passed ? "PASSED" : "FAILED", ok,
                coh->samples.size());
  }
  std::printf("\nVerdict: %s\n", verdict.c_str());
  return 0;
}

}  // namespace

std::vector<Command> register_littlebit(CLI::App& app, const GlobalOptions& g) {
  auto f = std::make_shared<LittleBitFlags>();
  CLI::App* group =
      app.add_subcommand("littlebit", "LittleBit sub-1-bit factorization: compress, info, convert, validate");
  group->require_subcommand(1);
  std::vector<Command> out;

  CLI::App* c = group->add_subcommand("compress", "Compress a model's linear layers to 0.1-2.0 bits per weight");
  model_argument(c->add_option("MODEL", f->model, "HF checkpoint directory, GGUF file or hub id")->required(),
                 &f->model);
  auto* bpw = c->add_option("--target-bpw", f->target_bpw,
                            "Target bits per weight of the linear layers, 0.1-2.0 (exit 22 outside)")
                  ->capture_default_str();
  c->add_option("--rank", f->rank, "One latent rank for every layer instead of the BPW rule (exit 23 if too large)")
      ->check(CLI::PositiveNumber)
      ->excludes(bpw);
  c->add_option("--quality-threshold", f->quality_threshold,
                "Max perplexity increase in percent; worse layers get more rank and the model is compressed again, "
                "exit 21 if it still fails");
  c->add_option("--format", f->format, "Output format: littlebit, gguf-ext, gguf-lossy")->capture_default_str();
  c->add_option("-o,--output-dir", f->output_dir, "Output directory")->capture_default_str();
  c->add_option("-n,--output-name", f->output_name, "Output file name (default: MODEL-littlebit-<bpw>)")
      ->check(cli::plain_file_name());
  c->add_option("--calibration-data", f->calibration_data,
                "Text/JSON/JSONL for the refinement's activations (default: bundled text)");
  c->add_option("--calibration-samples", f->calibration_samples, "Calibration sequences")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--calibration-seq-len", f->seq_len, "Tokens per calibration sequence")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  c->add_flag("--no-refine", f->no_refine,
              "Dual-SVID initialization only (the paper's post-training start; poor quality)");
  c->add_option("--refine-steps", f->refine_steps, "Adam steps of activation-aware refinement per weight")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_option("--refine-rows", f->refine_rows, "Calibration input rows per weight used by refinement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_flag("--sequential", f->sequential,
              "Refine each layer on inputs from the already compressed earlier layers instead of the original model's");
  c->add_option("--block-steps", f->block_steps,
                "Block-output matching: Adam steps per decoder block fitting all seven factorized linears to the "
                "original block's outputs (default 40; 0 = off; needs refinement)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--block-samples", f->block_samples, "Calibration sequences used by block-output matching")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--block-lr", f->block_lr, "Adam step of block-output matching for the scales, relative to their RMS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--block-latent-lr", f->block_latent_lr,
                "The same for the latent sign factors (0 = signs stay as per-weight refinement left them)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_option("--seed", f->seed, "Seed of randomized SVD sketches and refinement minibatches (same seed, same file)")
      ->capture_default_str();
  c->add_flag("--no-residual", f->no_residual, "One path instead of the primary + residual pair");
  c->add_option("--kv-factor", f->kv_factor, "Rank multiplier for attn_k / attn_v")
      ->capture_default_str()
      ->check(cli::finite_positive());
  c->add_option("--keep-type", f->keep_type, "Type of the tensors kept dense (embeddings, output): F16, BF16, F32")
      ->capture_default_str();
  c->add_option("--gguf-quant", f->gguf_quant, "GGUF type of the reconstruction for --format gguf-lossy")
      ->capture_default_str();
  c->add_flag("--skip-validation", f->skip_validation, "Do not measure perplexity after compression");
  c->add_option("--validation-data", f->validation_data, "Text for the validation perplexity (default: bundled text)");
  c->add_option("--validation-chunks", f->validation_chunks, "512-token chunks scored by validation")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--threads", f->threads, "Worker threads (0 = all cores)")->check(cli::thread_count());
  f->ckpt.add_to(c);
  out.push_back({c, [&g, f, c] {
                   reject_littlebit_flags_that_do_nothing(
                       *c, {f->format, !f->no_refine, !f->skip_validation || f->quality_threshold.has_value()});
                   return run_compress(g, *f);
                 }});

  CLI::App* i = group->add_subcommand("info", "Show what a .littlebit or gguf-ext file holds");
  i->add_option("FILE", f->file, "Path to a .littlebit or gguf-ext file")->required();
  i->add_flag("--layers", f->layers, "Per-layer statistics");
  out.push_back({i, [&g, f] { return run_info(g, *f); }});

  CLI::App* v = group->add_subcommand("convert", "Convert between littlebit, gguf-ext and gguf-lossy");
  v->add_option("INPUT", f->file, "A .littlebit or gguf-ext file")->required();
  v->add_option("OUTPUT_FORMAT", f->format, "littlebit, gguf-ext or gguf-lossy")->required();
  v->add_option("-o,--output-dir", f->output_dir, "Output directory")->capture_default_str();
  v->add_option("-n,--output-name", f->output_name, "Output file name")->check(cli::plain_file_name());
  v->add_option("--gguf-quant", f->gguf_quant, "GGUF type for gguf-lossy (e.g. Q4_K_M, Q5_K_M)")->capture_default_str();
  v->add_flag("--force", f->force, "Convert to gguf-lossy without stopping at the quality warning (exit 9)");
  v->add_option("--threads", f->threads, "Worker threads (0 = all cores)")->check(cli::thread_count());
  out.push_back({v, [&g, f, v] {
                   reject_littlebit_flags_that_do_nothing(*v, {f->format});
                   return run_convert(g, *f);
                 }});

  CLI::App* q =
      group->add_subcommand("validate", "Perplexity (and coherence) of a compressed model against the original");
  model_argument(q->add_option("ORIGINAL", f->original, "Original model (HF directory, GGUF or hub id)")->required(),
                 &f->original);
  q->add_option("COMPRESSED", f->compressed, "Compressed model (.littlebit, or the gguf-lossy file)")->required();
  q->add_option("--calibration-data", f->calibration_data, "Evaluation text (default: bundled text)");
  q->add_option("--calibration-samples", f->validation_chunks, "512-token chunks scored")->capture_default_str();
  q->add_flag("--coherence-test", f->coherence, "Also generate from sample prompts and score coherence");
  q->add_option("--benchmark", f->benchmark, "Benchmark: wikitext (perplexity)")->capture_default_str();
  q->add_option("--threads", f->threads, "Worker threads (0 = all cores)")->check(cli::thread_count());
  out.push_back({q, [&g, f] { return run_validate(g, *f); }});
  return out;
}

}  // namespace cli
