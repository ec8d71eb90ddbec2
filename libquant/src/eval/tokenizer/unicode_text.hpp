#pragma once
// Unicode facts the tokenizers need, with llama.cpp's conventions: how bytes
// decode (an invalid byte becomes U+FFFD and costs one byte), the general
// category of a code point (ICU), Unicode White_Space, simple lower-casing,
// the first code point of a character's NFD decomposition, and GPT-2's
// byte <-> printable-character table of byte-level BPE.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace libquant::eval::text {

// Length of the UTF-8 sequence a lead byte announces (1 for stray bytes).
inline size_t utf8_len(char lead) noexcept {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[static_cast<uint8_t>(lead) >> 4];
}

// Length of the valid UTF-8 sequence at s[at], or 0 (llama.cpp's decoder: the
// lead byte's bits give the length and continuation bytes must follow; no
// further checks, so overlong forms pass; stray continuation bytes, 5+ byte
// leads and cut sequences do not).
size_t utf8_sequence_length(std::string_view s, size_t at) noexcept;
// Code points of `s`; a byte that does not start a complete sequence yields
// U+FFFD and decoding resumes at the next byte.
std::vector<uint32_t> decode_utf8(std::string_view s);
void append_utf8(std::string& out, uint32_t cp);  // values above U+10FFFF become U+FFFD
std::string encode_utf8(const std::vector<uint32_t>& cps, size_t begin, size_t end);

enum class Category : uint8_t { Undefined, Number, Letter, Separator, Mark, Punctuation, Symbol, Control };

struct CharInfo {
  Category category = Category::Undefined;
  bool whitespace = false;
  bool lowercase = false, uppercase = false;  // cased letters (for \p{Ll} / \p{Lu}-style rules)
};
CharInfo char_info(uint32_t cp) noexcept;
inline bool is_whitespace(uint32_t cp) noexcept { return char_info(cp).whitespace; }

uint32_t to_lower(uint32_t cp) noexcept;
// First code point of the NFD form of cp (accents dropped from precomposed letters).
uint32_t nfd_first(uint32_t cp) noexcept;
bool is_han(uint32_t cp) noexcept;

// GPT-2 byte-level BPE: the printable character standing for each byte.
const std::string& byte_to_symbol(uint8_t b) noexcept;
// The byte a symbol stands for, or -1.
int symbol_to_byte(std::string_view symbol) noexcept;

}  // namespace libquant::eval::text
