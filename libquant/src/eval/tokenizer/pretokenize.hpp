#pragma once
// Pre-tokenization of BPE vocabularies as llama.cpp does it: a text is cut
// into words by a list of regular expressions applied in turn (each one
// splits the pieces the previous ones left: matches and the gaps between them
// become pieces). The common patterns (GPT-2, Llama 3, Qwen2, Qwen3.5, and
// newline runs) have hand-written splitters; the others run on std::regex
// (ECMAScript, as llama.cpp) over a "collapsed" text in which every
// non-ASCII code point is replaced by one byte standing for its Unicode
// category, so that \p{L}, \p{N}, \p{P}, \p{M}, \p{S} become byte classes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace libquant::eval::pretok {

// The words of `text` (UTF-8); with `byte_encode`, each word's bytes are
// mapped to GPT-2's printable byte symbols.
std::vector<std::string> split(std::string_view text, const std::vector<std::string>& patterns, bool byte_encode);

// Whether every pattern can be run (custom splitter, std::regex, or a known
// special name); used to refuse a vocabulary before tokenizing.
bool supported(const std::vector<std::string>& patterns);

// An HF tokenizer.json split regex in llama.cpp's spelling: the
// case-insensitive contraction group written out, possessive quantifiers
// (?+ ++ *+) made greedy, and the trailing "|\s+" of GPT-2's regex (which
// the rule before it already covers) dropped, so that equal rules compare equal.
std::string llama_spelling(std::string_view hf_regex);

}  // namespace libquant::eval::pretok
