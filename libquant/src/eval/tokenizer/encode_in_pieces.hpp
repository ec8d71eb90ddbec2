#pragma once
// Tokenizing the beginning of a long text without tokenizing all of it. The
// text is cut at line starts (after a newline that another does not follow) and the pieces are tokenized one after the
// other until enough ids are there. A cut is taken only where the ids are seen not to depend on it: the lines around
// it, tokenized whole and tokenized as two parts, give the same ids. (Tokenizers split words at such places —
// pre-tokenizer rules and merges are local — so the check holds for real vocabularies; where a vocabulary merges across
// line breaks the check fails and the next line start is tried.)
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace libquant::eval {

// encode_plain(piece, at_text_start): the ids of a piece of the text, without
// BOS/EOS; at_text_start says whether the piece begins the text (SentencePiece
// adds its dummy space prefix only there). Returns at least min_tokens ids
// (all when the text has fewer) and sets *whole when the whole text was read.
std::vector<int32_t> encode_in_pieces(std::string_view text, size_t min_tokens,
                                      const std::function<std::vector<int32_t>(std::string_view, bool)>& encode_plain,
                                      bool* whole);

}  // namespace libquant::eval
