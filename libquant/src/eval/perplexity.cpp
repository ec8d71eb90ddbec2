#include "libquant/eval/perplexity.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"

namespace libquant::eval {

double token_nll(const float* logits, int64_t n_vocab, int32_t target) {
  float mx = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return std::log(sum) - (static_cast<double>(logits[target]) - mx);
}

namespace {
std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(ErrorCode::CalibrationDataError, "cannot read data file '" + p.string() + "'", "Check the --data path");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

PerplexityResult perplexity(const PerplexityOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check(opts.ctx >= 16, ErrorCode::InvalidArgument, "--ctx must be at least 16");
  check(opts.batch >= 1, ErrorCode::InvalidArgument, "--batch must be at least 1");
  auto src = model::open_tensor_source(opts.model);
  auto tok = load_tokenizer(*src);
  const std::vector<int32_t> tokens = tok->encode(read_text(opts.data), tok->add_bos_by_default());
  PerplexityResult res;
  res.n_tokens = static_cast<int64_t>(tokens.size());
  const int64_t available = res.n_tokens / opts.ctx;
  if (available < 1 || res.n_tokens < 2 * opts.ctx)
    throw Error(ErrorCode::CalibrationDataError,
                "the text has " + std::to_string(res.n_tokens) + " tokens; at least 2 x ctx = " +
                    std::to_string(2 * opts.ctx) + " are needed",
                "Use a longer text or a smaller --ctx");
  res.n_chunks = opts.chunks > 0 ? std::min(opts.chunks, available) : available;

  ForwardOptions fo;
  fo.streaming = opts.streaming;
  fo.threads = opts.threads;
  Transformer model(*src, fo);
  const int64_t first = opts.ctx / 2;
  const int32_t bos = tok->bos_id();
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  progress.begin("Perplexity", static_cast<uint64_t>(res.n_chunks), "chunks");
  double nll = 0.0, nll2 = 0.0;
  int64_t count = 0;
  for (int64_t c0 = 0; c0 < res.n_chunks; c0 += opts.batch) {
    const int64_t nb = std::min(opts.batch, res.n_chunks - c0);
    std::vector<std::vector<int32_t>> batch;
    for (int64_t b = 0; b < nb; ++b) {
      const auto begin = tokens.begin() + (c0 + b) * opts.ctx;
      batch.emplace_back(begin, begin + opts.ctx);
      if (tok->add_bos_by_default() && bos >= 0) batch.back()[0] = bos;
    }
    const std::vector<float> logits = model.forward(batch, first);
    const int64_t vocab = static_cast<int64_t>(logits.size()) / (nb * (opts.ctx - first));
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t base = (c0 + b) * opts.ctx;
      for (int64_t j = first; j < opts.ctx - 1; ++j) {
        const float* row = logits.data() + (b * (opts.ctx - first) + (j - first)) * vocab;
        const double v = token_nll(row, vocab, tokens[static_cast<size_t>(base + j + 1)]);
        nll += v;
        nll2 += v * v;
        ++count;
      }
      res.chunk_ppl.push_back(std::exp(nll / static_cast<double>(count)));
    }
    progress.update(static_cast<uint64_t>(c0 + nb), "");
  }
  progress.end();
  res.scored_tokens = count;
  res.mean_nll = nll / static_cast<double>(count);
  res.ppl = std::exp(res.mean_nll);
  const double var = nll2 / static_cast<double>(count) - res.mean_nll * res.mean_nll;
  res.ppl_error = count > 1 ? res.ppl * std::sqrt(std::max(0.0, var) / static_cast<double>(count - 1)) : 0.0;
  res.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.tokens_per_second = static_cast<double>(res.n_chunks * opts.ctx) / res.duration_seconds;
  return res;
}

}  // namespace libquant::eval
