#pragma once
// The BPE pre-tokenizers llama.cpp knows (tokenizer.ggml.pre), each with the
// split patterns of the model's tokenizer.json and the flags llama.cpp sets
// for it. The patterns are the tokenizers' own definitions (as adapted for
// std::regex by llama.cpp: case-insensitive groups written out, possessive
// quantifiers made greedy), so that words are cut exactly where llama.cpp
// cuts them.
#include <string>
#include <string_view>
#include <vector>

namespace libquant::eval {

struct PreTokenizer {
  std::vector<std::string> patterns;
  bool byte_encode = true;     // GPT-2 byte symbols (false: raw UTF-8 with <0xXX> byte tokens)
  bool ignore_merges = false;  // a word found whole in the vocabulary is one token
  bool add_bos = false;        // llama.cpp turns BOS on for these
  bool add_sep = false;
  bool escape_whitespaces = false;  // spaces become U+2581 first (SPM-style BPE)
  bool no_bos = false;              // the BOS id is dropped (ChatGLM)
};

// nullptr for names llama.cpp does not know.
const PreTokenizer* find_pre_tokenizer(std::string_view name);
// The name of a pre-tokenizer with exactly these split patterns, or nullptr.
const char* pre_tokenizer_with_patterns(const std::vector<std::string>& patterns);

}  // namespace libquant::eval
