#include "libquant/jobs/analyze.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "libquant/core/output_guard.hpp"
#include "libquant/core/checkpoint.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/model/model_validation.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/methods/importance_matrix.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

ImportanceStatistics importance_statistics(const std::string& name, const std::vector<float>& values) {
  ImportanceStatistics s;
  s.name = name;
  s.columns = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  double sum = 0, sum2 = 0;
  s.min = INFINITY;
  s.max = -INFINITY;
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (v > s.max) {
      s.max = v;
      s.top_column = static_cast<int64_t>(i);
    }
    s.min = std::min(s.min, v);
    sum += v;
    sum2 += v * v;
  }
  const auto n = static_cast<double>(values.size());
  s.mean = sum / n;
  s.std = std::sqrt(std::max(0.0, sum2 / n - s.mean * s.mean));
  return s;
}

namespace {

std::string read_text(const AnalyzeOptions& opts) {
  // Plain text is used as is (as llama-imatrix reads it); JSON / JSON lines documents are joined by blank lines.
  if (opts.data.empty()) return eval::default_calibration_text();
  std::string text;
  const auto docs = eval::read_calibration_documents(opts.data);
  for (size_t i = 0; i < docs.size(); ++i) text += (i ? "\n\n" : "") + docs[i];
  return text;
}

// Everything that changes the matrix, for the checkpoint identity. The thread
// count is left out: the arithmetic does not depend on it.
std::string job_config(const AnalyzeOptions& o, int64_t n_chunks) {
  return "model=" + file_identity(o.model) + "\ndata=" + (o.data.empty() ? "default" : file_identity(o.data)) +
         "\nctx=" + std::to_string(o.ctx) + "\nchunks=" + std::to_string(n_chunks) +
         "\nbatch=" + std::to_string(o.batch) + "\nfirst_chunk=" + std::to_string(o.first_chunk) +
         "\noutput_layer=" + std::to_string(o.process_output) + "\nnumerics=" + std::to_string(o.llama_cpp_numerics) +
         "\ndataset=" + o.dataset_name + "\noutput=" + fs::absolute(o.output).lexically_normal().string();
}

std::vector<std::vector<int32_t>> chunk_batch(const std::vector<int32_t>& tokens, const eval::Tokenizer& tok,
                                              int64_t first, int64_t count, int64_t ctx) {
  std::vector<std::vector<int32_t>> batch;
  for (int64_t b = 0; b < count; ++b) {
    auto begin = tokens.begin() + (first + b) * ctx;
    batch.emplace_back(begin, begin + ctx);
    if (tok.add_bos_by_default() && tok.bos_id() >= 0) batch.back()[0] = tok.bos_id();
  }
  return batch;
}

methods::ImportanceMatrix load_inputs(const std::vector<fs::path>& files) {
  methods::ImportanceMatrix merged;
  for (const auto& f : files) merged.merge(methods::ImportanceMatrix::load(f));
  return merged;
}

bool writes_gguf(const AnalyzeOptions& o) {
  if (o.layout == AnalyzeOptions::Layout::ByExtension) return o.output.extension() == ".gguf";
  return o.layout == AnalyzeOptions::Layout::Gguf;
}

// Writes the matrix in the layout asked for. A computed legacy file takes
// llama-imatrix's entry order; merged/converted files keep the order read.
void save_matrix(methods::ImportanceMatrix& m, const AnalyzeOptions& o, bool llama_order) {
  if (writes_gguf(o)) {
    m.save_gguf(o.output);
    return;
  }
  if (llama_order) m.order_as_llama_imatrix();
  m.save_legacy(o.output);
}

// --save-frequency: the matrix so far (with the --in-file matrices, as
// llama-imatrix's collector holds them) as "<output>.at_<chunks>".
void save_snapshot(const methods::ImportanceMatrix& m, const methods::ImportanceMatrix& inputs,
                   const AnalyzeOptions& o) {
  methods::ImportanceMatrix copy = inputs;  // what the run would write if it stopped here
  copy.merge(m);
  AnalyzeOptions at = o;
  at.output = o.output.string() + ".at_" + std::to_string(m.chunks);
  if (o.layout == AnalyzeOptions::Layout::ByExtension)
    at.layout = writes_gguf(o) ? AnalyzeOptions::Layout::Gguf : AnalyzeOptions::Layout::Legacy;
  save_matrix(copy, at, /*llama_order=*/true);
}

// Per weight statistics in model order (a tied output matrix, with no tensor
// of its own, last); without a model in the matrix's own order.
void fill_statistics(AnalyzeResult& r, const methods::ImportanceMatrix& m, const model::TensorSource* src) {
  std::vector<const methods::ImatrixEntry*> ordered;
  if (src)
    for (const auto& t : src->tensors())
      if (const auto* e = m.find(t.name)) ordered.push_back(e);
  for (const auto& e : m.entries())
    if (!src || !src->find(e.name)) ordered.push_back(&e);
  std::vector<float> all;
  for (const auto* e : ordered) {
    const auto mean = e->mean();
    r.layers.push_back(importance_statistics(e->name, mean));
    all.insert(all.end(), mean.begin(), mean.end());
  }
  r.global = importance_statistics("", all);
  r.chunks = m.chunks;
  r.entries = static_cast<int64_t>(m.entries().size());
}

// Merge or convert existing files; nothing is computed.
AnalyzeResult combine_only(const AnalyzeOptions& opts) {
  check(!opts.input_imatrices.empty(), ErrorCode::InvalidArgument,
        "nothing to analyze: give a model, or imatrix files to merge or convert");
  methods::ImportanceMatrix m = load_inputs(opts.input_imatrices);
  save_matrix(m, opts, /*llama_order=*/false);
  AnalyzeResult r;
  r.output_path = opts.output;
  fill_statistics(r, m, nullptr);
  return r;
}

}  // namespace

AnalyzeResult analyze(const AnalyzeOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<fs::path> inputs = opts.input_imatrices;
    inputs.push_back(opts.model);
    inputs.push_back(opts.data);
    require_output_apart_from_inputs(opts.output, inputs);
    if (!opts.super_weights_output.empty()) require_output_apart_from_inputs(opts.super_weights_output, inputs);
  }
  if (opts.model.empty()) {
    auto r = combine_only(opts);
    r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }
  // Read the inputs first: a bad --in-file fails before hours of computing.
  methods::ImportanceMatrix inputs = load_inputs(opts.input_imatrices);
  check(opts.ctx >= 16 && opts.batch >= 1, ErrorCode::InvalidArgument, "ctx must be >= 16 and batch >= 1");
  auto src = model::open_tensor_source(opts.model);
  auto tok = eval::load_tokenizer(*src);
  // Only the chunks the run uses are tokenized (all of them without --chunks).
  check(opts.first_chunk >= 0 && opts.save_every >= 0, ErrorCode::InvalidArgument,
        "`first_chunk` and `save_every` cannot be negative");
  const size_t needed = opts.chunks > 0
                            ? static_cast<size_t>((std::max<int64_t>(opts.chunks, 2) + opts.first_chunk) * opts.ctx)
                            : SIZE_MAX;
  std::vector<int32_t> tokens = tok->encode_prefix(read_text(opts), tok->add_bos_by_default(), needed);
  if (opts.first_chunk > 0) {  // as llama-imatrix: two whole chunks must be left
    if ((opts.first_chunk + 2) * opts.ctx >= static_cast<int64_t>(tokens.size()))
      throw Error(ErrorCode::CalibrationDataError,
                  "calibration text has " + std::to_string(tokens.size()) + " tokens; skipping " +
                      std::to_string(opts.first_chunk) + " chunks of " + std::to_string(opts.ctx) +
                      " leaves fewer than two",
                  "Skip fewer chunks (`first_chunk`) or provide more text");
    tokens.erase(tokens.begin(), tokens.begin() + opts.first_chunk * opts.ctx);
  }
  const int64_t available = static_cast<int64_t>(tokens.size()) / opts.ctx;
  if (static_cast<int64_t>(tokens.size()) < 2 * opts.ctx)
    throw Error(ErrorCode::CalibrationDataError,
                "calibration text has " + std::to_string(tokens.size()) + " tokens; at least 2 x ctx are needed",
                "Provide more text or a smaller `ctx`");
  const int64_t n_chunks = opts.chunks > 0 ? std::min(opts.chunks, available) : available;

  methods::ImportanceMatrix m;
  m.chunk_size = opts.ctx;
  m.datasets.push_back(!opts.dataset_name.empty() ? opts.dataset_name
                       : opts.data.empty()        ? "default"
                                                  : opts.data.string());
  AnalyzeResult r;
  r.model = opts.model;

  std::optional<Checkpoint> ckpt;
  fs::path partial;
  if (opts.checkpoint_dir) {
    ckpt.emplace(*opts.checkpoint_dir, "analyze", job_config(opts, n_chunks));
    partial = ckpt->partial_path(".imatrix.gguf");
    std::optional<CheckpointRecord> rec;
    if (opts.resume) rec = ckpt->load_record();
    const std::optional<uint64_t> done = rec ? std::optional<uint64_t>(rec->done) : std::nullopt;
    if (opts.resume && !done)
      throw Error(ErrorCode::CheckpointError,
                  "no checkpoint of this analysis in '" + opts.checkpoint_dir->string() + "'",
                  "Start afresh without `resume` (model, data and options must match the interrupted run)");
    if (done && *done > 0) {
      methods::ImportanceMatrix saved;
      ckpt->verify_partial(*rec, partial);  // the very bytes the record was written for
      try {
        saved = methods::ImportanceMatrix::load_gguf(partial);
      } catch (const Error& e) {
        throw Error(ErrorCode::CheckpointError, std::string("checkpoint data is unreadable: ") + e.what(),
                    "Delete the checkpoint directory and start afresh");
      }
      if (saved.chunks != static_cast<int64_t>(*done))
        throw Error(ErrorCode::CheckpointError, "checkpoint record and data disagree",
                    "Delete the checkpoint directory and start afresh");
      saved.datasets = m.datasets;
      m = std::move(saved);
      r.chunks_resumed = m.chunks;
      log_info("resuming after " + std::to_string(m.chunks) + " of " + std::to_string(n_chunks) + " chunks");
    }
  }

  methods::ImatrixCollector collector(m, opts.process_output);
  eval::ForwardOptions fo;
  fo.threads = opts.threads;
  fo.ggml_numerics = opts.llama_cpp_numerics;
  if (fo.ggml_numerics && !eval::exact_numerics_supported(model::validated_config(*src))) {
    // llama-imatrix's exact arithmetic is only reproduced for Llama/Qwen blocks; others use the f32 pass.
    log_info("no llama.cpp-exact forward for this architecture: using the f32 forward pass");
    fo.ggml_numerics = false;
  }
  eval::Transformer model(*src, fo);
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  progress.begin("Analyzing", static_cast<uint64_t>(n_chunks), "chunks");
  progress.update(static_cast<uint64_t>(m.chunks), "");
  for (int64_t c0 = m.chunks; c0 < n_chunks; c0 += opts.batch) {
    const int64_t nb = std::min(opts.batch, n_chunks - c0);
    collector.set_calls_per_forward(nb);
    // Only the output matrix needs logits; otherwise stop at the last position.
    model.forward(chunk_batch(tokens, *tok, c0, nb, opts.ctx), opts.process_output ? 0 : opts.ctx - 1, &collector);
    m.chunks += nb;
    // llama-imatrix's test: a copy whenever a multiple of the frequency was reached within this step.
    if (opts.save_every > 0 && (m.chunks % opts.save_every) / nb == 0) save_snapshot(m, inputs, opts);
    if (ckpt) {
      m.save_gguf(partial, /*keep_order=*/true);
      ckpt->save_with_partial(static_cast<uint64_t>(m.chunks), partial);
      if (opts.on_checkpoint) opts.on_checkpoint(static_cast<uint64_t>(m.chunks));
    }
    progress.update(static_cast<uint64_t>(c0 + nb), "");
  }
  progress.end();

  const int64_t computed_chunks = m.chunks;
  if (!opts.input_imatrices.empty()) {
    // As llama-imatrix: the files' entries first, the computed statistics added.
    inputs.merge(m);
    m = std::move(inputs);
  }
  save_matrix(m, opts, /*llama_order=*/true);

  if (opts.identify_super_weights) {
    // One forward pass over the first chunks is enough: the spikes appear on any text.
    eval::ForwardOptions sf;
    sf.threads = opts.threads;
    eval::Transformer pass(*src, sf);
    // Early layers only, as in the paper: the first quarter (at least two).
    methods::SuperWeightCriteria crit;
    crit.max_layers = std::max<int>(2, static_cast<int>((pass.config().num_layers + 3) / 4));
    methods::SuperWeightFinder finder(*src, crit);
    const int64_t probe = std::min<int64_t>(n_chunks, 4);
    for (int64_t c = 0; c < probe; ++c) pass.forward(chunk_batch(tokens, *tok, c, 1, opts.ctx), opts.ctx - 1, &finder);
    r.super_weights = finder.finish();
    const methods::SaliencyMask mask = methods::saliency_mask(*src, m, opts.coverage);
    r.protected_weights = mask.total();
    r.super_weights_path = !opts.super_weights_output.empty() ? opts.super_weights_output
                                                              : fs::path(opts.output.string() + ".super_weights.json");
    methods::save_super_weights(r.super_weights_path, opts.model.string(), r.super_weights, mask);
  }
  if (ckpt) ckpt->clear();

  r.output_path = opts.output;
  fill_statistics(r, m, src.get());
  r.tokens = computed_chunks * opts.ctx;
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
