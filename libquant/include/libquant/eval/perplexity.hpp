#pragma once
// Perplexity with llama-perplexity's method: the whole text tokenized with
// BOS, non-overlapping chunks of n_ctx tokens whose first token is replaced
// by BOS, and only the second half of each chunk scored (tokens
// n_ctx/2+1 .. n_ctx-1 predicted from everything before them).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"

namespace libquant::eval {

struct PerplexityOptions {
  std::filesystem::path model;
  std::filesystem::path data;  // plain text
  int64_t ctx = 512;
  int64_t chunks = -1;    // -1 = every whole chunk in the text
  int64_t batch = 1;      // chunks evaluated together
  bool streaming = true;  // one decoder layer in memory at a time
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
  std::filesystem::path save_logits;  // write llama.cpp's KL base file (log-probs of every scored token)
  std::filesystem::path kl_base;      // compare against such a file; its tokens replace `data`
  // Where the tokenizer comes from (HF directory or GGUF file); empty: the
  // model itself. For checkpoints written without tokenizer files.
  std::filesystem::path tokenizer;
  static PerplexityOptions defaults() { return {}; }
};

// KL-divergence mode results (the base is the model that wrote the file).
struct KlStats {
  double mean_kld = 0, kld_error = 0, max_kld = 0;
  double same_top_p = 0, same_top_p_error = 0;  // fraction of positions with equal argmax
  double ppl_base = 0;                          // from the stored log-probs
  double mean_ln_ratio = 0;                     // mean of ln(p_base/p_q) of the target = ln(PPL(Q)/PPL(base))
  double rms_delta_p = 0;                       // RMS of p_q(target) - p_base(target)
};

struct PerplexityResult {
  double ppl = 0;
  double ppl_error = 0;  // ppl * standard error of the mean NLL
  double mean_nll = 0;
  int64_t ctx = 0;       // context used (the KL base file's in KL mode)
  int64_t n_tokens = 0;  // tokens in the text (with BOS)
  int64_t n_chunks = 0;
  int64_t scored_tokens = 0;
  double duration_seconds = 0;
  double tokens_per_second = 0;   // tokens evaluated (chunks x ctx) per second of evaluation
                                  // (tokenization and start-up excluded, as llama-perplexity's timing)
  std::vector<double> chunk_ppl;  // running estimate after each chunk, as llama.cpp prints
  bool has_kl = false;
  KlStats kl;
};

LIBQUANT_API PerplexityResult perplexity(const PerplexityOptions& opts);

// -log softmax(logits)[target] in double, max-subtracted (exposed for tests).
LIBQUANT_API double token_nll(const float* logits, int64_t n_vocab, int32_t target);
// log(sum(exp(logits))) in double, max-subtracted; the one normaliser every
// scoring path (perplexity, KL, reports) shares.
LIBQUANT_API double log_sum_exp(const float* logits, int64_t n_vocab);
// Log-probabilities of one row of logits, in double (resizes `out`).
LIBQUANT_API void log_softmax(const float* logits, int64_t n_vocab, std::vector<double>& out);
// Sum over the `n` rows of KL(softmax(base) || softmax(probe)), each row
// clamped at 0 (rounding), for logits [n][n_vocab].
LIBQUANT_API double sum_kl_divergence(const float* base, const float* probe, int64_t n, int64_t n_vocab);
// Whole evaluation text as bytes; CalibrationDataError (15) when unreadable.
LIBQUANT_API std::string read_text_file(const std::filesystem::path& path);

}  // namespace libquant::eval
