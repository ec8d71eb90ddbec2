#pragma once
// The tokenization algorithms, each on one fragment of plain text (special
// tokens are cut out before): SentencePiece-BPE by piece scores, byte-level
// BPE by merge ranks after pre-tokenization, WordPiece by longest match,
// unigram (UGM) by the best-scoring segmentation, and RWKV by greedy longest
// byte match, as llama.cpp implements them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vocab.hpp"

namespace libquant::eval {

void spm_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);
void bpe_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);
void wpm_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);
void ugm_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);
void rwkv_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out);

// The bytes an RWKV token text stands for (\t \n \r \xNN and \-escapes).
std::string rwkv_unescape(std::string_view escaped);

}  // namespace libquant::eval
