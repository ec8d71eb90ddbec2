#include "libquant/eval/coherence.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "libquant/eval/perplexity.hpp"
#include "libquant/eval/tokenizer.hpp"

namespace libquant::eval {

namespace {
const std::vector<std::string> kDefaultPrompts = {"Once upon a time", "The most important thing to remember is",
                                                  "Yesterday morning, the children"};

// Perplexity of `cont` following `prompt` under `model`.
double continuation_ppl(Transformer& model, const std::vector<int32_t>& prompt, const std::vector<int32_t>& cont) {
  if (cont.empty()) return 1.0;
  std::vector<int32_t> seq(prompt);
  seq.insert(seq.end(), cont.begin(), cont.end());
  const auto from = static_cast<int64_t>(prompt.size()) - 1;
  const auto logits = model.forward({seq}, from);
  const int64_t vocab = static_cast<int64_t>(logits.size()) / (static_cast<int64_t>(seq.size()) - from);
  double nll = 0;
  for (size_t i = 0; i < cont.size(); ++i)
    nll += token_nll(logits.data() + static_cast<int64_t>(i) * vocab, vocab, cont[i]);
  return std::exp(nll / static_cast<double>(cont.size()));
}
}  // namespace

std::vector<int32_t> greedy_generate(Transformer& model, const std::vector<int32_t>& prompt, int n, int32_t eos) {
  std::vector<int32_t> seq(prompt), out;
  for (int i = 0; i < n; ++i) {
    const auto logits = model.forward({seq}, static_cast<int64_t>(seq.size()) - 1);
    const auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (next == eos) break;
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

double distinct_trigram_ratio(const std::vector<int32_t>& ids) {
  if (ids.size() < 3) return 1.0;
  std::set<std::tuple<int32_t, int32_t, int32_t>> seen;
  for (size_t i = 0; i + 2 < ids.size(); ++i) seen.emplace(ids[i], ids[i + 1], ids[i + 2]);
  return static_cast<double>(seen.size()) / static_cast<double>(ids.size() - 2);
}

CoherenceResult coherence_check(const CoherenceOptions& opts) {
  auto src = model::open_tensor_source(opts.model);
  auto tok = load_tokenizer(*src);
  ForwardOptions model_options;
  model_options.streaming = false;
  model_options.threads = opts.threads;
  Transformer model(*src, model_options);
  std::unique_ptr<model::TensorSource> ref_src;
  std::unique_ptr<Transformer> ref;
  if (!opts.reference.empty()) {
    ref_src = model::open_tensor_source(opts.reference);
    ref = std::make_unique<Transformer>(*ref_src, model_options);
  }
  CoherenceResult res;
  const auto& prompts = opts.prompts.empty() ? kDefaultPrompts : opts.prompts;
  for (const auto& p : prompts) {
    const auto ids = tok->encode(p, tok->add_bos_by_default());
    CoherenceSample s;
    s.prompt = p;
    const auto cont = greedy_generate(model, ids, opts.max_new_tokens, tok->eos_id());
    s.continuation = tok->decode(cont);
    s.distinct_trigrams = distinct_trigram_ratio(cont);
    if (ref) {
      s.reference_ppl = continuation_ppl(*ref, ids, cont);
      const auto own = greedy_generate(*ref, ids, opts.max_new_tokens, tok->eos_id());
      s.fluency = std::min(1.0, continuation_ppl(*ref, ids, own) / s.reference_ppl);
    }
    s.score = s.distinct_trigrams * s.fluency;
    res.score += s.score / static_cast<double>(prompts.size());
    res.samples.push_back(std::move(s));
  }
  res.passed = res.score >= opts.threshold;
  return res;
}

}  // namespace libquant::eval
