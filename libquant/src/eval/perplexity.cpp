#include "libquant/core/output_guard.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/eval/perplexity.hpp"

#include <chrono>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "libquant/core/error.hpp"
#include "libquant/eval/logits_file.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"

namespace libquant::eval {

double log_sum_exp(const float* logits, int64_t n_vocab) {
  float mx = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return std::log(sum) + mx;
}

void log_softmax(const float* logits, int64_t n_vocab, std::vector<double>& out) {
  out.resize(static_cast<size_t>(n_vocab));
  const double lse = log_sum_exp(logits, n_vocab);
  for (int64_t i = 0; i < n_vocab; ++i) out[static_cast<size_t>(i)] = logits[i] - lse;
}

double sum_kl_divergence(const float* base, const float* probe, int64_t n, int64_t n_vocab) {
  std::vector<double> lp, lq;
  double total = 0;
  for (int64_t t = 0; t < n; ++t) {
    log_softmax(base + t * n_vocab, n_vocab, lp);
    log_softmax(probe + t * n_vocab, n_vocab, lq);
    double kl = 0;
    for (size_t i = 0; i < lp.size(); ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    total += std::max(0.0, kl);
  }
  return total;
}

double token_nll(const float* logits, int64_t n_vocab, int32_t target) {
  return log_sum_exp(logits, n_vocab) - static_cast<double>(logits[target]);
}

std::string read_text_file(const std::filesystem::path& p) {
  return read_whole_file(p, ErrorCode::CalibrationDataError, "data file");
}

namespace {  // Running sums for the KL-divergence statistics.
struct KlAccumulator {
  double kld = 0, kld2 = 0, kld_max = 0, same = 0, nll_base = 0, ln_ratio = 0, dp2 = 0;
  int64_t n = 0;
  std::vector<double> base_lp;

  void add(const float* logits, int32_t n_vocab, std::span<const uint16_t> base_row, int32_t target, double nll_q) {
    base_lp.resize(static_cast<size_t>(n_vocab));
    decode_log_probs(base_row.data(), n_vocab, base_lp.data());
    int32_t arg_q = 0, arg_b = 0;
    for (int32_t i = 1; i < n_vocab; ++i) {
      if (logits[i] > logits[arg_q]) arg_q = i;
      if (base_row[4 + i] > base_row[4 + arg_b]) arg_b = i;
    }
    const double lse = log_sum_exp(logits, n_vocab);
    double k = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i)
      if (base_lp[i] > -16.0) k += std::exp(base_lp[i]) * (base_lp[i] - (logits[i] - lse));
    const double nb = -base_lp[static_cast<size_t>(target)];
    kld += k;
    kld2 += k * k;
    kld_max = std::max(kld_max, k);
    same += arg_q == arg_b ? 1.0 : 0.0;
    nll_base += nb;
    ln_ratio += nll_q - nb;
    const double dp = std::exp(-nll_q) - std::exp(-nb);
    dp2 += dp * dp;
    ++n;
  }

  KlStats finish() const {
    KlStats st;
    const double dn = static_cast<double>(n);
    st.mean_kld = kld / dn;
    st.kld_error = n > 1 ? std::sqrt(std::max(0.0, kld2 / dn - st.mean_kld * st.mean_kld) / (dn - 1)) : 0.0;
    st.max_kld = kld_max;
    st.same_top_p = same / dn;
    st.same_top_p_error = n > 1 ? std::sqrt(st.same_top_p * (1 - st.same_top_p) / (dn - 1)) : 0.0;
    st.ppl_base = std::exp(nll_base / dn);
    st.mean_ln_ratio = ln_ratio / dn;
    st.rms_delta_p = std::sqrt(dp2 / dn);
    return st;
  }
};

}  // namespace

PerplexityResult perplexity(const PerplexityOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check(opts.ctx >= 16, ErrorCode::InvalidArgument, "`ctx` must be at least 16");
  check(opts.batch >= 1, ErrorCode::InvalidArgument, "`batch` must be at least 1");
  if (!opts.save_logits.empty())
    require_output_apart_from_inputs(opts.save_logits, {opts.model, opts.data, opts.kl_base});
  auto src = model::open_tensor_source(opts.model);
  const auto tok_src = opts.tokenizer.empty() ? nullptr : model::open_tensor_source(opts.tokenizer);
  auto tok = load_tokenizer(tok_src ? *tok_src : *src);
  std::unique_ptr<LogitsFileReader> base;
  std::vector<int32_t> tokens;
  int64_t ctx = opts.ctx;
  if (!opts.kl_base.empty()) {  // KL mode: the base file fixes the tokens and the context
    base = std::make_unique<LogitsFileReader>(opts.kl_base);
    tokens.assign(base->tokens().begin(), base->tokens().end());
    ctx = base->n_ctx();
  } else {
    tokens = tok->encode(read_text_file(opts.data), tok->add_bos_by_default());
  }
  PerplexityResult res;
  res.ctx = ctx;
  res.n_tokens = static_cast<int64_t>(tokens.size());
  const int64_t available = res.n_tokens / ctx;
  if (available < 1 || (!base && res.n_tokens < 2 * ctx))
    throw Error(ErrorCode::CalibrationDataError,
                "the text has " + std::to_string(res.n_tokens) +
                    " tokens; at least 2 x ctx = " + std::to_string(2 * ctx) + " are needed",
                "Use a longer text or a smaller `ctx`");
  res.n_chunks = opts.chunks > 0 ? std::min(opts.chunks, available) : available;

  ForwardOptions fo;
  fo.streaming = opts.streaming;
  fo.threads = opts.threads;
  Transformer model(*src, fo);
  const int64_t first = ctx / 2;
  const int32_t bos = tok->bos_id();
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  progress.begin("Perplexity", static_cast<uint64_t>(res.n_chunks), "chunks");
  const auto t_eval = std::chrono::steady_clock::now();
  double nll = 0.0, nll2 = 0.0;
  int64_t count = 0;
  KlAccumulator kl;
  std::unique_ptr<LogitsFileWriter> save;
  std::vector<uint16_t> row_words;
  for (int64_t c0 = 0; c0 < res.n_chunks; c0 += opts.batch) {
    const int64_t nb = std::min(opts.batch, res.n_chunks - c0);
    std::vector<std::vector<int32_t>> batch;
    for (int64_t b = 0; b < nb; ++b) {
      const auto begin = tokens.begin() + (c0 + b) * ctx;
      batch.emplace_back(begin, begin + ctx);
      if (tok->add_bos_by_default() && bos >= 0) batch.back()[0] = bos;
    }
    const std::vector<float> logits = model.forward(batch, first);
    const int64_t vocab = static_cast<int64_t>(logits.size()) / (nb * (ctx - first));
    if (base && base->n_vocab() != vocab)
      throw Error(ErrorCode::ValidationFailed, "the KL base file has a vocabulary of " +
                                                   std::to_string(base->n_vocab()) + ", the model " +
                                                   std::to_string(vocab));
    if (!opts.save_logits.empty() && !save) {
      save =
          std::make_unique<LogitsFileWriter>(opts.save_logits, static_cast<int32_t>(ctx), static_cast<int32_t>(vocab),
                                             tokens, static_cast<int32_t>(res.n_chunks));
      row_words.resize(logits_words_per_position(static_cast<int32_t>(vocab)));
    }
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t start = (c0 + b) * ctx;
      for (int64_t j = first; j < ctx - 1; ++j) {
        const float* row = logits.data() + (b * (ctx - first) + (j - first)) * vocab;
        const int32_t target = tokens[static_cast<size_t>(start + j + 1)];
        const double v = token_nll(row, vocab, target);
        if (save) {
          encode_log_probs(row, static_cast<int32_t>(vocab), target, row_words.data());
          save->append(row_words);
        }
        if (base) kl.add(row, static_cast<int32_t>(vocab), base->row(static_cast<size_t>(count)), target, v);
        nll += v;
        nll2 += v * v;
        ++count;
      }
      res.chunk_ppl.push_back(std::exp(nll / static_cast<double>(count)));
    }
    progress.update(static_cast<uint64_t>(c0 + nb), "");
  }
  const double eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_eval).count();
  progress.end();
  if (save) save->finish();
  if (base) {
    res.has_kl = true;
    res.kl = kl.finish();
  }
  res.scored_tokens = count;
  res.mean_nll = nll / static_cast<double>(count);
  res.ppl = std::exp(res.mean_nll);
  const double var = nll2 / static_cast<double>(count) - res.mean_nll * res.mean_nll;
  res.ppl_error = count > 1 ? res.ppl * std::sqrt(std::max(0.0, var) / static_cast<double>(count - 1)) : 0.0;
  res.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.tokens_per_second = static_cast<double>(res.n_chunks * ctx) / eval_seconds;
  return res;
}

}  // namespace libquant::eval
