// `llm-quantize quality perplexity MODEL --data FILE`: flag parsing only; the
// work is libquant::eval::perplexity.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "hub_models.hpp"
#include "flag_checks.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/eval/coherence.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"

#include <fstream>
#include <sstream>

namespace cli {

namespace {
struct PerplexityCliOptions {
  std::string model, data, save_logits, kl_base, tokenizer;
  int64_t ctx = 512, chunks = -1, batch = 1;
  unsigned threads = 0;
  bool whole_model = false;
};

int run_perplexity(const GlobalOptions& g, const PerplexityCliOptions& o) {
  libquant::TerminalProgress progress(progress_enabled(g));
  auto opts = libquant::eval::PerplexityOptions::defaults();
  opts.model = o.model;
  opts.data = o.data;
  opts.ctx = o.ctx;
  opts.chunks = o.chunks;
  opts.batch = o.batch;
  opts.threads = o.threads;
  opts.streaming = !o.whole_model;
  opts.progress = &progress;
  opts.save_logits = o.save_logits;
  opts.kl_base = o.kl_base;
  opts.tokenizer = o.tokenizer;
  if (o.data.empty() && o.kl_base.empty())
    throw libquant::Error(libquant::ErrorCode::InvalidArgument,
                          "--data is required (unless --kl-base gives the tokens)",
                          "Pass --data FILE with the evaluation text");
  const auto r = libquant::eval::perplexity(opts);
  const auto& k = r.kl;
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success").field("model", o.model).field("data", o.data);
    libquant::jobs::write_json(j, r);
    j.end_object();
    print_json(j);
  } else {
    char line[160];
    std::snprintf(line, sizeof line, "Final estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_error);
    std::cout << line;
    std::snprintf(line, sizeof line, "%lld chunks of %lld tokens, %.1f tokens/s\n", static_cast<long long>(r.n_chunks),
                  static_cast<long long>(r.ctx), r.tokens_per_second);
    std::cerr << line;
    if (r.has_kl) {
      std::snprintf(line, sizeof line,
                    "Mean PPL(base): %.4f  ln(PPL(Q)/PPL(base)): %.6f\nMean KLD: %.6f +/- %.6f  Max KLD: %.6f\n"
                    "Same top p: %.3f +/- %.3f %%  RMS dp: %.3f %%\n",
                    k.ppl_base, k.mean_ln_ratio, k.mean_kld, k.kld_error, k.max_kld, 100 * k.same_top_p,
                    100 * k.same_top_p_error, 100 * k.rms_delta_p);
      std::cout << line;
    }
  }
  return 0;
}
}  // namespace

namespace {
struct TokenizeOptions {
  std::string model, file, text;
  bool no_bos = false;
};

int run_tokenize(const GlobalOptions& g, const TokenizeOptions& o) {
  std::string text = o.text;
  if (!o.file.empty()) text = libquant::read_whole_file(o.file, libquant::ErrorCode::InvalidArgument, "--file");
  auto src = libquant::model::open_tensor_source(o.model);
  auto tok = libquant::eval::load_tokenizer(*src);
  const auto ids = tok->encode(text, !o.no_bos && tok->add_bos_by_default());
  libquant::JsonWriter j(0);  // one line, in both modes
  j.begin_object().field("n_tokens", static_cast<uint64_t>(ids.size())).key("ids").begin_array();
  for (int32_t id : ids) j.value(static_cast<int64_t>(id));
  j.end_array().end_object();
  print_json(j);
  return 0;
}
}  // namespace

Command register_tokenize(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* sub = app.add_subcommand("tokenize", "Token ids of a text with the model's own tokenizer (JSON)");
  model_argument(sub->add_option("MODEL", o->model, "HF checkpoint directory, .gguf file or hub id")->required(),
                 &o->model);
  auto* file = sub->add_option("--file", o->file, "Text file");
  sub->add_option("--text", o->text, "Text")->excludes(file);
  sub->add_flag("--no-bos", o->no_bos, "Do not add BOS even if the model asks for it");
  return {sub, [&g, o, sub] {
            if (sub->count("--file") + sub->count("--text") == 0)
              throw CLI::ValidationError("tokenize", "give the text with --text TEXT or --file PATH");
            return run_tokenize(g, *o);
          }};
}

namespace {
struct CoherenceCliOptions {
  libquant::eval::CoherenceOptions o;
  std::string model, reference;
};

int run_coherence(const GlobalOptions& g, CoherenceCliOptions& c) {
  c.o.model = c.model;
  c.o.reference = c.reference;
  const auto r = libquant::eval::coherence_check(c.o);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", r.passed ? "success" : "failed").field("threshold", c.o.threshold);
    libquant::jobs::write_json(j, r);
    j.end_object();
    if (r.passed) print_json(j);
  } else {
    for (const auto& s : r.samples) std::cout << "[" << s.score << "] " << s.prompt << " | " << s.continuation << "\n";
    std::cout << "Coherence score: " << r.score << " (threshold " << c.o.threshold << ")\n";
  }
  if (!r.passed) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "Model output coherence check failed (score: %.2f)", r.score);
    throw libquant::Error(libquant::ErrorCode::CoherenceFailed, msg,
                          "Ultra-low-bit quantization may be too aggressive. Consider Q2_K or dynamic quantization");
  }
  return 0;
}
}  // namespace

Command register_coherence(CLI::App& quality, const GlobalOptions& g) {
  auto c = std::make_shared<CoherenceCliOptions>();
  CLI::App* sub =
      quality.add_subcommand("coherence", "Greedy generation from fixed prompts, scored for repetition and fluency");
  model_argument(sub->add_option("MODEL", c->model, "Model to check")->required(), &c->model);
  sub->add_option("--reference", c->reference, "Original model: fluency is judged by how likely it finds the output");
  sub->add_option("--prompt", c->o.prompts, "Prompt (repeatable; default: three built-in prompts)");
  sub->add_option("--max-tokens", c->o.max_new_tokens, "Tokens generated per prompt")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  sub->add_option("--threshold", c->o.threshold, "Minimum mean score (0-1); below it the command exits 12")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--threads", c->o.threads, "Threads (0 = all cores)")->check(cli::thread_count());
  return {sub, [&g, c] { return run_coherence(g, *c); }};
}

Command register_quality(CLI::App& app, const GlobalOptions& g) {
  auto po = std::make_shared<PerplexityCliOptions>();
  CLI::App* quality = app.add_subcommand(
      "quality",
      "Measure model quality: perplexity, KL divergence, quantized-vs-original reports and comparisons, coherence");
  quality->require_subcommand(1);
  CLI::App* ppl = quality->add_subcommand("perplexity", "Perplexity with llama-perplexity's method");
  model_argument(ppl->add_option("MODEL", po->model, "HF checkpoint directory, .gguf file or hub id")->required(),
                 &po->model);
  ppl->add_option("--data", po->data, "Evaluation text (plain UTF-8; exit 15 when unreadable)");
  ppl->add_option("--ctx", po->ctx, "Tokens per chunk (only the second half is scored)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  ppl->add_option("--chunks", po->chunks, "Evaluate only the first N chunks (-1 = all)")->capture_default_str();
  ppl->add_option("--batch", po->batch, "Chunks evaluated together")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1024}));
  ppl->add_option("--threads", po->threads, "Threads (0 = all cores)")
      ->capture_default_str()
      ->check(cli::thread_count());
  ppl->add_option("--save-logits", po->save_logits,
                  "Write the log-probabilities of every scored token (llama-perplexity's KL base file)");
  ppl->add_option("--kl-base", po->kl_base, "KL-divergence against a --save-logits file (its tokens are used)")
      ->check(CLI::ExistingFile);
  ppl->add_option("--tokenizer", po->tokenizer,
                  "Take the tokenizer from this HF directory or .gguf file (for checkpoints without tokenizer files)")
      ->check(CLI::ExistingPath);
  ppl->add_flag("--whole-model", po->whole_model,
                "Keep all weights in memory instead of streaming one layer at a time");
  return {ppl, [&g, po] { return run_perplexity(g, *po); }};
}

}  // namespace cli

namespace cli {
namespace {
struct LogitsCliOptions {
  std::string model, ids;
  bool whole_model = false;
};

int run_logits(const LogitsCliOptions& o) {
  std::vector<int32_t> ids;
  std::stringstream ss(o.ids);
  for (std::string item; std::getline(ss, item, ',');) ids.push_back(static_cast<int32_t>(std::stol(item)));
  if (ids.empty()) throw libquant::Error(libquant::ErrorCode::InvalidArgument, "--ids is empty");
  auto src = libquant::model::open_tensor_source(o.model);
  libquant::eval::ForwardOptions tf_options;
  tf_options.streaming = !o.whole_model;
  tf_options.threads = 0;
  libquant::eval::Transformer tf(*src, tf_options);
  const auto logits = tf.forward({ids});
  const size_t vocab = logits.size() / ids.size();
  libquant::JsonWriter j;
  j.begin_object().field("n_tokens", static_cast<uint64_t>(ids.size())).field("n_vocab", static_cast<uint64_t>(vocab));
  j.key("logits").begin_array();
  for (size_t t = 0; t < ids.size(); ++t) {
    j.begin_array();
    for (size_t v = 0; v < vocab; ++v) j.value(logits[t * vocab + v]);
    j.end_array();
  }
  j.end_array().end_object();
  print_json(j);
  return 0;
}
}  // namespace

Command register_logits(CLI::App& quality) {
  auto o = std::make_shared<LogitsCliOptions>();
  CLI::App* sub =
      quality.add_subcommand("logits", "Logits of one token sequence (JSON), for checks against other engines");
  model_argument(sub->add_option("MODEL", o->model, "HF checkpoint directory, .gguf file or hub id")->required(),
                 &o->model);
  sub->add_option("--ids", o->ids, "Comma-separated token ids, evaluated from position 0")->required();
  sub->add_flag("--whole-model", o->whole_model, "Keep all weights in memory");
  return {sub, [o] { return run_logits(*o); }};
}

}  // namespace cli
