#include "libquant/jobs/analyze.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "libquant/core/error.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/methods/importance_matrix.hpp"

namespace libquant::jobs {

AnalyzeResult analyze(const AnalyzeOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check(opts.ctx >= 16 && opts.batch >= 1, ErrorCode::InvalidArgument, "ctx must be >= 16 and batch >= 1");
  auto src = model::open_tensor_source(opts.model);
  auto tok = eval::load_tokenizer(*src);
  // Plain text is used as is (as llama-imatrix reads it); JSON / JSON lines documents are joined by blank lines.
  std::string text;
  if (opts.data.empty()) {
    text = eval::default_calibration_text();
  } else {
    const auto docs = eval::read_calibration_documents(opts.data);
    for (size_t i = 0; i < docs.size(); ++i) text += (i ? "\n\n" : "") + docs[i];
  }
  const std::vector<int32_t> tokens = tok->encode(text, tok->add_bos_by_default());
  const int64_t available = static_cast<int64_t>(tokens.size()) / opts.ctx;
  if (static_cast<int64_t>(tokens.size()) < 2 * opts.ctx)
    throw Error(ErrorCode::CalibrationDataError,
                "calibration text has " + std::to_string(tokens.size()) + " tokens; at least 2 x ctx are needed",
                "Provide more text or a smaller --ctx");
  const int64_t n_chunks = opts.chunks > 0 ? std::min(opts.chunks, available) : available;

  methods::ImportanceMatrix m;
  m.chunk_size = opts.ctx;
  m.datasets.push_back(!opts.dataset_name.empty() ? opts.dataset_name : opts.data.empty() ? "default" : opts.data.string());
  methods::ImatrixCollector collector(m, opts.process_output);
  eval::ForwardOptions fo;
  fo.threads = opts.threads;
  fo.ggml_numerics = opts.llama_cpp_numerics;
  eval::Transformer model(*src, fo);
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  progress.begin("Analyzing", static_cast<uint64_t>(n_chunks), "chunks");
  for (int64_t c0 = 0; c0 < n_chunks; c0 += opts.batch) {
    const int64_t nb = std::min(opts.batch, n_chunks - c0);
    std::vector<std::vector<int32_t>> batch;
    for (int64_t b = 0; b < nb; ++b) {
      auto begin = tokens.begin() + (c0 + b) * opts.ctx;
      batch.emplace_back(begin, begin + opts.ctx);
      if (tok->add_bos_by_default() && tok->bos_id() >= 0) batch.back()[0] = tok->bos_id();
    }
    collector.set_calls_per_forward(nb);
    // Only the output matrix needs logits; otherwise stop at the last position.
    model.forward(batch, opts.process_output ? 0 : opts.ctx - 1, &collector);
    m.chunks += nb;
    progress.update(static_cast<uint64_t>(c0 + nb), "");
  }
  progress.end();

  const std::string ext = opts.output.extension().string();
  if (ext == ".gguf") {
    m.save_gguf(opts.output);
  } else {
    m.order_as_llama_imatrix();
    m.save_legacy(opts.output);
  }

  AnalyzeResult r;
  r.output_path = opts.output;
  r.chunks = m.chunks;
  r.entries = static_cast<int64_t>(m.entries().size());
  r.tokens = n_chunks * opts.ctx;
  double sum = 0, sum2 = 0;
  uint64_t n = 0;
  r.min = INFINITY;
  r.max = -INFINITY;
  for (const auto& e : m.entries())
    for (float v : e.mean()) {
      r.min = std::min(r.min, static_cast<double>(v));
      r.max = std::max(r.max, static_cast<double>(v));
      sum += v;
      sum2 += static_cast<double>(v) * v;
      ++n;
    }
  if (n) {
    r.mean = sum / static_cast<double>(n);
    r.std = std::sqrt(std::max(0.0, sum2 / static_cast<double>(n) - r.mean * r.mean));
  }
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
