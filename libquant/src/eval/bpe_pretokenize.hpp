#pragma once
// Pre-tokenization of byte-level BPE vocabularies as llama.cpp does it: the
// GPT-2 split pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// implemented by hand over Unicode categories, optionally after splitting
// every \p{N} code point into its own piece (the `smollm` family), and the
// Llama 3 pattern (Qwen2 uses it with single digits):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
#include <string>
#include <string_view>
#include <vector>

namespace libquant::eval {

enum class BpePreSplit { Gpt2, DigitsThenGpt2, Llama3, Qwen2 };

// Pieces of `text` (views into it) in order; their concatenation is `text`.
std::vector<std::string_view> bpe_pretokenize(std::string_view text, BpePreSplit mode);

}  // namespace libquant::eval
