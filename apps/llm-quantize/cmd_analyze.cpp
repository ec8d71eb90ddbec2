// `llm-quantize analyze MODEL`: flag parsing only; the work is libquant::jobs::analyze.
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/jobs/analyze.hpp"

namespace cli {
namespace {
struct AnalyzeCliOptions {
  std::string model, data, output, dataset_name, method = "activation";
  int64_t ctx = 512, chunks = -1, batch = 1, samples = 512;
  bool process_output = false, blas = false;
  unsigned threads = 0;
};

int run_analyze(const GlobalOptions& g, const AnalyzeCliOptions& o) {
  libquant::TerminalProgress progress(progress_enabled(g));
  if (o.method != "activation")
    throw libquant::Error(libquant::ErrorCode::InvalidArgument, "--method " + o.method + " is not implemented yet",
                          "Use --method activation (gradient and fisher saliency are planned)");
  auto opts = libquant::jobs::AnalyzeOptions::defaults();
  opts.model = o.model;
  opts.data = o.data;
  opts.output = o.output.empty()
                    ? std::filesystem::path(std::filesystem::path(o.model).filename().string() + ".imatrix")
                    : std::filesystem::path(o.output);
  opts.dataset_name = o.dataset_name;
  opts.ctx = o.ctx;
  opts.chunks = o.chunks > 0 ? o.chunks : o.samples;  // --chunks (llama-imatrix) overrides --calibration-samples
  opts.batch = o.batch;
  opts.process_output = o.process_output;
  opts.llama_cpp_numerics = !o.blas;
  opts.threads = o.threads;
  opts.progress = &progress;
  libquant::log_info("Loading model: " + o.model);
  libquant::log_info("Computing importance matrix (activation_magnitude)");
  const auto r = libquant::jobs::analyze(opts);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object()
        .field("status", "success")
        .field("output_path", std::filesystem::absolute(r.output_path).string())
        .field("model_path", o.model)
        .field("method", "activation_magnitude")
        .field("num_entries", r.entries)
        .field("chunks", r.chunks)
        .field("tokens", r.tokens);
    j.key("global_statistics").begin_object().field("min", r.min).field("max", r.max).field("mean", r.mean)
        .field("std", r.std).end_object();
    j.field("duration_seconds", r.duration_seconds).end_object();
    print_json(j);
  } else {
    libquant::log_info("Complete: " + r.output_path.string());
    std::cout << r.output_path.string() << "\n";
  }
  return 0;
}
}  // namespace

Command register_analyze(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<AnalyzeCliOptions>();
  CLI::App* sub = app.add_subcommand("analyze", "Importance matrix from calibration text (llama.cpp .dat or GGUF imatrix)");
  sub->add_option("MODEL", o->model, "HF checkpoint directory or .gguf file")->required();
  sub->add_option("--calibration-data,--data", o->data,
                  "Calibration text, .json or .jsonl (default: the bundled text)")->check(CLI::ExistingFile);
  sub->add_option("--calibration-samples", o->samples, "Chunks of --ctx tokens to evaluate (at most what the text holds)")
      ->capture_default_str()->check(CLI::Range(int64_t{128}, int64_t{1024}));
  sub->add_option("--method", o->method, "activation (default); gradient and fisher are refused until implemented")
      ->capture_default_str()->check(CLI::IsMember({"activation", "gradient", "fisher"}));
  sub->add_option("-o,--output", o->output, "Output file: .gguf = GGUF imatrix, otherwise legacy .dat");
  sub->add_option("--dataset-name", o->dataset_name, "Dataset name stored in the file (default: the data path)");
  sub->add_option("--ctx", o->ctx, "Tokens per chunk")->capture_default_str()->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  sub->add_option("--chunks", o->chunks, "Use exactly the first N chunks, as llama-imatrix --chunks (overrides samples)")
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "Chunks per forward call")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{256}));
  sub->add_flag("--process-output", o->process_output, "Also collect the output matrix's input");
  sub->add_flag("--blas-forward", o->blas,
                "Use libquant's f32 BLAS forward pass instead of llama.cpp's arithmetic (results then differ from "
                "llama-imatrix's in the last bits)");
  sub->add_option("--threads", o->threads, "Threads (0 = all cores)");
  return {sub, [&g, o] { return run_analyze(g, *o); }};
}

}  // namespace cli
