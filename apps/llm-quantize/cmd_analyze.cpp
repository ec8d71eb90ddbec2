// `llm-quantize analyze MODEL`: flag parsing only; the work is libquant::jobs::analyze.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "checkpoint_flags.hpp"
#include "commands.hpp"
#include "environment.hpp"
#include "flag_checks.hpp"
#include "html_flags.hpp"
#include "hub_models.hpp"
#include "imatrix_statistics_output.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/html_reports.hpp"
#include "libquant/jobs/result_json.hpp"

namespace cli {
namespace {
struct AnalyzeCliOptions {
  std::string model, data, output, dataset_name, method = "activation", super_weights_output, layout = "auto";
  std::vector<std::string> in_files;
  int64_t ctx = 512, chunks = -1, batch = 1, samples = 512, first_chunk = 0, save_every = 0;
  bool process_output = false, blas = false, super_weights = false, show_statistics = false;
  double coverage = 0.0001;
  unsigned threads = 0;
  CheckpointFlags checkpoints;
  HtmlFlags html;
};

void print_human(const libquant::jobs::AnalyzeResult& r) {
  std::printf("%-36s %8s %12s %12s %12s %8s\n", "weight", "columns", "mean", "max", "std", "top col");
  for (const auto& l : r.layers)
    std::printf("%-36s %8lld %12.4g %12.4g %12.4g %8lld\n", l.name.c_str(), static_cast<long long>(l.columns), l.mean,
                l.max, l.std, static_cast<long long>(l.top_column));
  std::printf("%-36s %8s %12.4g %12.4g %12.4g\n", "all", "", r.global.mean, r.global.max, r.global.std);
  for (const auto& s : r.super_weights)
    std::printf("super weight: %s[%lld, %lld] = %g (activation %g, input %g, %.0f%% of the spike)\n", s.tensor.c_str(),
                static_cast<long long>(s.row), static_cast<long long>(s.col), s.value, s.activation, s.input_activation,
                100.0 * s.share);
}

int run_analyze(const GlobalOptions& g, const AnalyzeCliOptions& o) {
  if (o.show_statistics) {
    if (!o.model.empty() || o.in_files.size() != 1 || !o.output.empty())
      throw libquant::Error(libquant::ErrorCode::InvalidArgument,
                            "--show-statistics reads one --in-file and computes or writes nothing",
                            "Use: analyze --show-statistics --in-file imatrix.gguf");
    return show_imatrix_statistics(g, o.in_files.front());
  }
  libquant::TerminalProgress progress(progress_enabled(g));
  if (o.model.empty() && o.in_files.empty())
    throw libquant::Error(libquant::ErrorCode::InvalidArgument, "MODEL is required",
                          "Give a model to analyze, or --in-file imatrix files to merge or convert");
  if (o.model.empty() && (!o.data.empty() || o.super_weights || o.first_chunk > 0 || o.save_every > 0))
    throw libquant::Error(libquant::ErrorCode::InvalidArgument,
                          "--data, --identify-super-weights, --chunk and --save-frequency need a model",
                          "Give MODEL, or drop them to only merge/convert the --in-file matrices");
  if (o.model.empty() && o.output.empty())
    throw libquant::Error(libquant::ErrorCode::InvalidArgument, "merging or converting needs -o/--output",
                          "Add -o merged.gguf (GGUF imatrix) or -o merged.dat (legacy)");
  if (o.method != "activation")
    throw libquant::Error(libquant::ErrorCode::InvalidArgument, "--method " + o.method + " is not implemented",
                          "Use --method activation (llama-imatrix's statistic); gradient and fisher saliency are not "
                          "available, and are refused rather than replaced");
  auto opts = libquant::jobs::AnalyzeOptions::defaults();
  opts.model = o.model;
  opts.data = o.data;
  opts.output = o.output.empty() ? std::filesystem::path(display_file_name(o.model) + ".imatrix")
                                 : std::filesystem::path(o.output);
  opts.dataset_name = o.dataset_name;
  opts.layout = o.layout == "gguf"  ? libquant::jobs::AnalyzeOptions::Layout::Gguf
                : o.layout == "dat" ? libquant::jobs::AnalyzeOptions::Layout::Legacy
                                    : libquant::jobs::AnalyzeOptions::Layout::ByExtension;
  opts.input_imatrices.assign(o.in_files.begin(), o.in_files.end());
  opts.ctx = o.ctx;
  opts.chunks = o.chunks > 0 ? o.chunks : o.samples;  // --chunks (llama-imatrix) overrides --calibration-samples
  opts.batch = o.batch;
  opts.first_chunk = o.first_chunk;
  opts.save_every = o.save_every;
  opts.process_output = o.process_output;
  opts.llama_cpp_numerics = !o.blas;
  opts.threads = o.threads;
  opts.identify_super_weights = o.super_weights;
  opts.coverage = o.coverage;
  opts.super_weights_output = o.super_weights_output;
  opts.checkpoint_dir = o.checkpoints.directory();
  opts.resume = o.checkpoints.resuming();
  opts.on_checkpoint = env::kill_when_reached("LLM_QUANTIZE_TEST_KILL_AFTER_CHUNKS");
  opts.progress = &progress;
  std::vector<std::filesystem::path> inputs = {o.model, o.data};
  inputs.insert(inputs.end(), o.in_files.begin(), o.in_files.end());
  const auto html = o.html.open(inputs);
  if (!o.model.empty()) {
    libquant::log_info("Loading model: " + o.model);
    libquant::log_info("Computing importance matrix (activation_magnitude)");
  } else {
    libquant::log_info("Combining " + std::to_string(o.in_files.size()) + " importance matrix file(s)");
  }
  const auto r = libquant::jobs::analyze(opts);
  o.checkpoints.tidy(opts.checkpoint_dir);
  if (html) html->commit(libquant::jobs::analyze_html(r, {g.command_line}));
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    libquant::jobs::write_json(j, r);
    j.end_object();
    print_json(j);
  } else {
    print_human(r);
    libquant::log_info("Complete: " + r.output_path.string());
    if (o.super_weights) libquant::log_info("Super weights: " + r.super_weights_path.string());
    std::cout << r.output_path.string() << "\n";
  }
  return 0;
}
}  // namespace

Command register_analyze(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<AnalyzeCliOptions>();
  CLI::App* sub =
      app.add_subcommand("analyze", "Importance matrix from calibration text (llama.cpp .dat or GGUF imatrix)");
  model_argument(
      sub->add_option("MODEL", o->model,
                      "HF checkpoint directory, .gguf file or hub id (optional with --in-file: merge/convert)"),
      &o->model);
  sub->add_option("--calibration-data,--data", o->data,
                  "Calibration text, .json or .jsonl (default: the bundled text; exit 15 when unreadable)");
  sub->add_option("--calibration-samples", o->samples,
                  "Chunks of --ctx tokens to evaluate (at most what the text holds)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{128}, int64_t{1024}));
  sub->add_option("--method", o->method, "activation (default); gradient and fisher are refused (exit 2)")
      ->capture_default_str()
      ->check(CLI::IsMember({"activation", "gradient", "fisher"}));
  sub->add_option("-o,--output", o->output, "Output file: .gguf = GGUF imatrix, otherwise legacy .dat");
  sub->add_option("--imatrix-format,--output-format", o->layout,
                  "Output layout: auto (by extension), dat (legacy) or gguf (--output-format: llama-imatrix's name)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "dat", "gguf"}));
  sub->add_option("--in-file", o->in_files,
                  "Existing imatrix (either layout) to merge into the result; repeatable. Without MODEL the files "
                  "are only merged or converted (as llama-imatrix --in-file)");
  sub->add_flag("--show-statistics", o->show_statistics,
                "Print llama-imatrix's statistics of the one --in-file matrix (per weight: sum, min, max, mean, std, "
                "active share, entropy, z-share, cosine with the previous layer; per layer) and exit");
  sub->add_option("--dataset-name", o->dataset_name, "Dataset name stored in the file (default: the data path)");
  sub->add_option("--ctx", o->ctx, "Tokens per chunk")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  sub->add_option("--chunk,--from-chunk", o->first_chunk,
                  "Skip this many chunks of the text first, as llama-imatrix --chunk (two must be left)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  sub->add_option("--save-frequency", o->save_every,
                  "Also save the matrix so far as OUTPUT.at_<chunks> every N chunks, as llama-imatrix (0 = never)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  sub->add_option("--chunks", o->chunks,
                  "Use exactly the first N chunks, as llama-imatrix --chunks (overrides samples)")
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "Chunks per forward call")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  sub->add_flag("--process-output", o->process_output, "Also collect the output matrix's input");
  sub->add_flag("--blas-forward", o->blas,
                "Use libquant's f32 BLAS forward pass instead of llama.cpp's arithmetic (results then differ from "
                "llama-imatrix's in the last bits)");
  sub->add_flag("--identify-super-weights", o->super_weights,
                "Also find super weights (ffn_down activation spikes) and the saliency mask; writes JSON");
  sub->add_option("--coverage", o->coverage, "Fraction of each weight in the saliency mask, (0, 0.01]")
      ->capture_default_str()
      ->check(cli::finite_range(1e-9, 0.01));
  sub->add_option("--super-weights-output", o->super_weights_output,
                  "Where the super-weight JSON goes (default: OUTPUT.super_weights.json)");
  sub->add_option("--threads", o->threads, "Threads (0 = all cores)")->check(cli::thread_count());
  o->checkpoints.add_to(sub);
  o->html.add_to(sub, "the importance heat map (layer x weight) and the super weights");
  return {sub, [&g, o] { return run_analyze(g, *o); }};
}

}  // namespace cli
