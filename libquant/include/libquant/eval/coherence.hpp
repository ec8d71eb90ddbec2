#pragma once
// Coherence check behind `--coherence-check`: greedy generation from fixed
// prompts, scored by (a) repetition: the share of distinct token trigrams in
// the continuation, and (b) fluency: when a reference (original) model is
// given, how likely the reference finds the continuation compared with its
// own greedy continuation: min(1, PPL_ref(own) / PPL_ref(candidate)).
// A sample scores repetition x fluency; the check passes when the mean score
// reaches the threshold (otherwise exit 12).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/eval/transformer.hpp"
#include "libquant/export.hpp"

namespace libquant::eval {

struct CoherenceOptions {
  std::filesystem::path model;
  std::filesystem::path reference;   // optional original model
  std::vector<std::string> prompts;  // empty = the built-in prompts
  int max_new_tokens = 48;
  double threshold = 0.5;
  unsigned threads = 0;
};

struct CoherenceSample {
  std::string prompt, continuation;
  double distinct_trigrams = 1, fluency = 1, score = 1;
  double reference_ppl = 0;  // PPL of the continuation under the reference (0 without one)
};

struct CoherenceResult {
  double score = 0;
  bool passed = false;
  std::vector<CoherenceSample> samples;
};

LIBQUANT_API CoherenceResult coherence_check(const CoherenceOptions& opts);

// Greedy continuation of `prompt` (token ids), at most n tokens, stopping at eos.
LIBQUANT_API std::vector<int32_t> greedy_generate(Transformer& model, const std::vector<int32_t>& prompt, int n,
                                                  int32_t eos);
// Share of distinct trigrams in a token sequence (1 when it has fewer than 3 tokens).
LIBQUANT_API double distinct_trigram_ratio(const std::vector<int32_t>& ids);

}  // namespace libquant::eval
