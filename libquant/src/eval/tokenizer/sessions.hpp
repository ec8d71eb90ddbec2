#pragma once
// The three tokenization algorithms, each on one fragment of plain text
// (special tokens are cut out before): SentencePiece-BPE by piece scores,
// byte-level BPE by merge ranks after pre-tokenization, and WordPiece by
// longest match, as llama.cpp implements them.
#include <cstdint>
#include <string_view>
#include <vector>

#include "vocab.hpp"

namespace libquant::eval {

void spm_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);
void bpe_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);
void wpm_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);

}  // namespace libquant::eval
