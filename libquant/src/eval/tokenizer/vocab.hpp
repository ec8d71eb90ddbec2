#pragma once
// A tokenizer vocabulary as llama.cpp reads it from GGUF metadata
// (tokenizer.ggml.*): tokens with scores and types, BPE merges, the special
// ids and the flags that steer tokenization, with llama.cpp's per-model
// defaults. Everything is validated when loaded: arrays of inconsistent
// lengths or types and out-of-range special ids are exit 6; a tokenizer
// model or pre-tokenizer that is not implemented is exit 8, naming it.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "byte_trie.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::eval {

enum class VocabKind { Spm, Bpe, Wpm, Ugm, Rwkv };

// llama.cpp's token attributes that tokenization looks at.
enum TokenAttr : uint32_t {
  kAttrNormal = 1u << 0,
  kAttrUnknown = 1u << 1,
  kAttrUnused = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,
  kAttrRstrip = 1u << 8,
};

struct Vocab {
  VocabKind kind = VocabKind::Spm;
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre
  std::vector<std::string> text;
  std::vector<float> score;
  std::vector<uint32_t> attr;
  std::unordered_map<std::string, int32_t> id_of;
  // BPE merges: "left right" -> rank.
  std::unordered_map<std::string, int32_t> merge_rank;
  std::vector<std::string> pre_patterns;  // BPE pre-tokenizer regexes
  bool byte_encode = true;                // BPE: GPT-2 byte symbols (false: raw UTF-8, <0xXX> fallback)
  bool ignore_merges = false;             // BPE: a whole word found in the vocabulary is one token
  int32_t bos = -1, eos = -1, unk = -1, sep = -1, pad = -1;
  bool add_bos = false, add_eos = false, add_sep = false;
  bool add_space_prefix = false, escape_whitespaces = true, remove_extra_whitespaces = false;
  bool lowercase = false, strip_accents = false;  // WPM normalisation
  bool treat_whitespace_as_suffix = false;        // UGM: the word-boundary space goes after words
  size_t max_token_len = 0;
  // UGM: the pieces Viterbi may use (normal, user-defined, unused), the
  // user-defined ones that pass normalisation untouched, the score of an
  // unknown code point, and the precompiled character map (double array +
  // NUL-terminated replacements). RWKV: token_trie holds the unescaped bytes.
  ByteTrie token_trie, user_defined_trie;
  double unknown_score = 0.0;
  std::vector<uint32_t> xcda;
  std::string replacements;
  std::vector<int32_t> special_tokens;  // partitioned out of the text, longest first

  int32_t find(std::string_view s) const {
    const auto it = id_of.find(std::string(s));
    return it == id_of.end() ? -1 : it->second;
  }
  int32_t rank(std::string_view left, std::string_view right) const;
  // The token of one byte (SPM: <0xXX>, else the byte itself; BPE: its GPT-2 symbol), or -1.
  int32_t byte_token(uint8_t b) const;
  int32_t size() const noexcept { return static_cast<int32_t>(text.size()); }
};

Vocab load_vocab(const io::GgufHeader& h);

}  // namespace libquant::eval
