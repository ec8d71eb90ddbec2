#pragma once
// Pre-tokenization of byte-level BPE vocabularies as llama.cpp does it: the
// GPT-2 split pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// implemented by hand over Unicode categories, optionally after splitting
// every \p{N} code point into its own piece (the `smollm` family).
#include <string>
#include <string_view>
#include <vector>

namespace libquant::eval {

enum class BpePreSplit { Gpt2, DigitsThenGpt2 };

// Pieces of `text` (views into it) in order; their concatenation is `text`.
std::vector<std::string_view> bpe_pretokenize(std::string_view text, BpePreSplit mode);

}  // namespace libquant::eval
