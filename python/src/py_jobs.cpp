// The jobs for Python: keyword options named after llm-quantize's flags,
// results as the CLI's JSON records (dicts), progress as a Python callback,
// the GIL released while they run and Ctrl-C stopping them (py_progress.hpp).
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "libquant/jobs/model_info.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/jobs/smoothquant.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "py_progress.hpp"

namespace libquant::python {

namespace {

using Path = std::filesystem::path;
using OptionalPath = std::optional<Path>;

template <typename Result>
nb::dict record(const Result& r, bool per_tensor = false) {
  JsonWriter j(0);
  j.begin_object();
  if constexpr (requires { jobs::write_json(j, r, jobs::ResultJsonOptions{}); })
    jobs::write_json(j, r, jobs::ResultJsonOptions{.per_tensor = per_tensor});
  else
    jobs::write_json(j, r);
  j.end_object();
  return nb::cast<nb::dict>(parse_record(j.str()));
}

// type='dynamic''s size target and candidates (they belong to nothing else).
void set_dynamic(jobs::ConvertToGgufOptions& o, std::optional<double> target_bpw,
                 std::optional<uint64_t> target_size_bytes, const std::vector<std::string>& candidates) {
  if (o.file_type != "dynamic" && !target_bpw && !target_size_bytes && candidates.empty()) return;
  check(o.file_type == "dynamic", ErrorCode::InvalidArgument,
        "target_bpw, target_size_bytes and candidates belong to type='dynamic', not '" + o.file_type + "'");
  jobs::DynamicQuantOptions d;
  d.target_bpw = target_bpw;
  d.target_size_bytes = target_size_bytes;
  for (const auto& c : candidates) d.candidates.push_back(ggml_type_named(c));
  o.dynamic = d;
}

void bind_quantize(nb::module_& m) {
  m.def(
      "quantize_gguf",
      [](const Path& input, const Path& output, const std::string& type, const OptionalPath& imatrix,
         std::optional<double> target_bpw, std::optional<uint64_t> target_size_bytes,
         const std::vector<std::string>& candidates, bool leave_output_tensor, bool pure, bool allow_requantize,
         const std::optional<std::string>& output_tensor_type, const std::optional<std::string>& token_embedding_type,
         const std::vector<std::pair<std::string, std::string>>& tensor_types, unsigned threads, bool dry_run,
         bool gptq, const OptionalPath& calibration_data, int64_t calibration_samples, int64_t calibration_seq_len,
         std::optional<double> damp, const std::vector<int>& prune_layers, bool keep_split,
         const std::vector<std::string>& include_weights, const std::vector<std::string>& exclude_weights,
         const std::optional<nb::callable>& progress) {
        jobs::ConvertToGgufOptions o;
        o.input = input;
        o.output = output;
        o.file_type = type;
        o.imatrix = imatrix;
        o.leave_output_tensor = leave_output_tensor;
        o.pure = pure;
        o.allow_requantize = allow_requantize;
        if (output_tensor_type) o.output_tensor_type = ggml_type_named(*output_tensor_type);
        if (token_embedding_type) o.token_embedding_type = ggml_type_named(*token_embedding_type);
        for (const auto& [pattern, t] : tensor_types) o.tensor_types.emplace_back(pattern, ggml_type_named(t));
        o.threads = threads;
        o.prune_layers = prune_layers;
        o.keep_split = keep_split;
        o.imatrix_include = include_weights;
        o.imatrix_exclude = exclude_weights;
        set_dynamic(o, target_bpw, target_size_bytes, candidates);
        if (gptq) {
          o.gptq.emplace();
          if (calibration_data) o.gptq->calibration_data = *calibration_data;
          o.gptq->calibration_samples = calibration_samples;
          o.gptq->seq_len = calibration_seq_len;
          if (damp) o.gptq->damp = *damp;
        }
        PythonProgress progress_sink(progress);
        o.progress = &progress_sink;
        return record(progress_sink.run([&] { return dry_run ? jobs::plan_gguf(o) : jobs::convert_to_gguf(o); }));
      },
      nb::arg("input"), nb::arg("output"), nb::arg("type") = "Q8_0", nb::kw_only(),
      nb::arg("imatrix").none() = nb::none(), nb::arg("target_bpw").none() = nb::none(),
      nb::arg("target_size_bytes").none() = nb::none(), nb::arg("candidates") = std::vector<std::string>{},
      nb::arg("leave_output_tensor") = false, nb::arg("pure") = false, nb::arg("allow_requantize") = false,
      nb::arg("output_tensor_type").none() = nb::none(), nb::arg("token_embedding_type").none() = nb::none(),
      nb::arg("tensor_types") = std::vector<std::pair<std::string, std::string>>{}, nb::arg("threads") = 0,
      nb::arg("dry_run") = false, nb::arg("gptq") = false, nb::arg("calibration_data").none() = nb::none(),
      nb::arg("calibration_samples") = 512, nb::arg("calibration_seq_len") = 512, nb::arg("damp").none() = nb::none(),
      nb::arg("prune_layers") = std::vector<int>{}, nb::arg("keep_split") = false,
      nb::arg("include_weights") = std::vector<std::string>{}, nb::arg("exclude_weights") = std::vector<std::string>{},
      nb::arg("progress").none() = nb::none(),
      "`llm-quantize quantize INPUT gguf -q TYPE`: an HF checkpoint directory or GGUF file to a GGUF file of "
      "llama-quantize's file type `type` ('Q4_K_M', 'IQ2_XS', 'F16', ... or 'dynamic' with target_bpw / "
      "target_size_bytes). tensor_types: (regex, type) pairs, first match wins. dry_run: decide every type, "
      "write nothing (file_size is exact). gptq: GPTQ error feedback through the GGUF codecs (calibration_*, damp; "
      "docs/gguf-gptq.md). Returns the CLI's JSON record as a dict.");
}

void bind_analyze(nb::module_& m) {
  m.def(
      "analyze",
      [](const Path& model, const Path& output, const OptionalPath& data, int64_t ctx, int64_t chunks, int64_t batch,
         bool process_output, unsigned threads, const std::optional<nb::callable>& progress_fn) {
        PythonProgress progress(progress_fn);
        auto o = jobs::AnalyzeOptions::defaults();
        o.model = model;
        o.output = output;
        if (data) o.data = *data;
        o.ctx = ctx;
        o.chunks = chunks;
        o.batch = batch;
        o.process_output = process_output;
        o.threads = threads;
        o.progress = &progress;
        const jobs::AnalyzeResult r = progress.run([&] { return jobs::analyze(o); });
        nb::object matrix = nb::cast(progress.run([&] { return methods::ImportanceMatrix::load(r.output_path); }));
        matrix.attr("record") = record(r);
        return matrix;
      },
      nb::arg("model"), nb::arg("output"), nb::kw_only(), nb::arg("calibration_data").none() = nb::none(),
      nb::arg("ctx") = 512, nb::arg("chunks") = -1, nb::arg("batch") = 1, nb::arg("process_output") = false,
      nb::arg("threads") = 0, nb::arg("progress").none() = nb::none(),
      "`llm-quantize analyze MODEL -o OUTPUT`: llama-imatrix's importance matrix from calibration text (default: "
      "the bundled text), written to `output` (.gguf: GGUF layout, else legacy .dat) and returned as an "
      "ImportanceMatrix whose .record is the CLI's JSON record.");
}

void bind_smoothquant(nb::module_& m) {
  m.def(
      "smoothquant",
      [](const Path& model, const Path& output, std::optional<double> alpha, bool smooth, bool static_activations,
         bool smooth_down, const OptionalPath& calibration_data, int64_t calibration_samples, int64_t seq_len,
         int64_t batch, unsigned threads, const std::optional<nb::callable>& progress_fn) {
        PythonProgress progress(progress_fn);
        jobs::SmoothQuantJobOptions o;
        o.model = model;
        o.output = output;
        o.alpha = alpha;
        o.smooth = smooth;
        o.static_activations = static_activations;
        o.smooth_down = smooth_down;
        if (calibration_data) o.calibration_data = *calibration_data;
        o.calibration_samples = calibration_samples;
        o.seq_len = seq_len;
        o.batch = batch;
        o.threads = threads;
        o.progress = &progress;
        return record(progress.run([&] { return jobs::smoothquant_w8a8(o); }));
      },
      nb::arg("model"), nb::arg("output"), nb::kw_only(), nb::arg("alpha").none() = 0.5, nb::arg("smooth") = true,
      nb::arg("static_activations") = false, nb::arg("smooth_down") = false,
      nb::arg("calibration_data").none() = nb::none(), nb::arg("calibration_samples") = 512, nb::arg("seq_len") = 512,
      nb::arg("batch") = 4, nb::arg("threads") = 0, nb::arg("progress").none() = nb::none(),
      "`llm-quantize quantize MODEL smoothquant`: a W8A8 compressed-tensors checkpoint directory (vLLM loads "
      "it). alpha=None searches alpha per group.");
}

void bind_littlebit(nb::module_& m) {
  m.def(
      "littlebit_compress",
      [](const Path& model, const Path& output, double target_bpw, const std::string& format,
         std::optional<int64_t> rank, bool refine, const OptionalPath& calibration_data, int64_t calibration_samples,
         int64_t seq_len, bool validate, std::optional<double> quality_threshold, uint64_t seed, unsigned threads,
         const std::optional<nb::callable>& progress_fn) {
        PythonProgress progress(progress_fn);
        jobs::LittleBitCompressOptions o;
        o.model = model;
        o.output = output;
        o.target_bpw = target_bpw;
        o.format = format;
        o.rank = rank;
        o.refine = refine;
        if (calibration_data) o.calibration_data = *calibration_data;
        o.calibration_samples = calibration_samples;
        o.seq_len = seq_len;
        o.validate = validate;
        o.quality_threshold = quality_threshold;
        o.seed = seed;
        o.threads = threads;
        o.progress = &progress;
        return record(progress.run([&] {
          jobs::check_littlebit_options(o);
          return jobs::littlebit_compress(o);
        }));
      },
      nb::arg("model"), nb::arg("output"), nb::kw_only(), nb::arg("target_bpw") = 0.5, nb::arg("format") = "littlebit",
      nb::arg("rank").none() = nb::none(), nb::arg("refine") = true, nb::arg("calibration_data").none() = nb::none(),
      nb::arg("calibration_samples") = 16, nb::arg("seq_len") = 512, nb::arg("validate") = true,
      nb::arg("quality_threshold").none() = nb::none(), nb::arg("seed") = 0, nb::arg("threads") = 0,
      nb::arg("progress").none() = nb::none(),
      "`llm-quantize littlebit compress MODEL`: sub-1-bit binary low-rank compression (format 'littlebit', "
      "'gguf-ext' or 'gguf-lossy').");
}

void bind_evaluation(nb::module_& m) {
  m.def(
      "perplexity",
      [](const Path& model, const Path& data, int64_t ctx, int64_t chunks, int64_t batch, unsigned threads,
         const std::optional<nb::callable>& progress_fn) {
        PythonProgress progress(progress_fn);
        auto o = eval::PerplexityOptions::defaults();
        o.model = model;
        o.data = data;
        o.ctx = ctx;
        o.chunks = chunks;
        o.batch = batch;
        o.threads = threads;
        o.progress = &progress;
        return record(progress.run([&] { return eval::perplexity(o); }));
      },
      nb::arg("model"), nb::arg("data"), nb::kw_only(), nb::arg("ctx") = 512, nb::arg("chunks") = -1,
      nb::arg("batch") = 1, nb::arg("threads") = 0, nb::arg("progress").none() = nb::none(),
      "`llm-quantize quality perplexity MODEL --data TEXT`: llama-perplexity's estimate over whole chunks.");
  m.def(
      "info",
      [](const Path& path, bool per_tensor) {
        const jobs::ModelInfo r = [&] {
          nb::gil_scoped_release release;
          return jobs::inspect_model(path);
        }();
        return record(r, per_tensor);
      },
      nb::arg("model"), nb::kw_only(), nb::arg("per_tensor") = false,
      "`llm-quantize info MODEL`: what a checkpoint or file is (no tensor data read).");
}

}  // namespace

nb::object parse_record(const std::string& json) { return nb::module_::import_("json").attr("loads")(json); }

void bind_jobs(nb::module_& m) {
  bind_quantize(m);
  bind_analyze(m);
  bind_smoothquant(m);
  bind_littlebit(m);
  bind_evaluation(m);
}

}  // namespace libquant::python
