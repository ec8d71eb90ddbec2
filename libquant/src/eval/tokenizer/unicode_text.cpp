#include "unicode_text.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <unordered_map>

namespace libquant::eval::text {

size_t utf8_sequence_length(std::string_view s, size_t at) noexcept {
  const auto b = static_cast<uint8_t>(s[at]);
  size_t len;
  if (!(b & 0x80)) return 1;
  if (!(b & 0x40)) return 0;
  if (!(b & 0x20))
    len = 2;
  else if (!(b & 0x10))
    len = 3;
  else if (!(b & 0x08))
    len = 4;
  else
    return 0;
  if (at + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<uint8_t>(s[at + k]) & 0xc0) != 0x80) return 0;
  return len;
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t i = 0; i < s.size();) {
    switch (utf8_sequence_length(s, i)) {
      case 1:
        out.push_back(p[i]);
        i += 1;
        break;
      case 2:
        out.push_back(((p[i] & 0x1fu) << 6) | (p[i + 1] & 0x3fu));
        i += 2;
        break;
      case 3:
        out.push_back(((p[i] & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu));
        i += 3;
        break;
      case 4:
        out.push_back(((p[i] & 0x07u) << 18) | ((p[i + 1] & 0x3fu) << 12) | ((p[i + 2] & 0x3fu) << 6) |
                      (p[i + 3] & 0x3fu));
        i += 4;
        break;
      default:
        out.push_back(0xFFFD);
        i += 1;  // not a complete sequence: one byte, U+FFFD
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

std::string encode_utf8(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string s;
  s.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) append_utf8(s, cps[i]);
  return s;
}

namespace {
Category category_of(uint32_t cp) noexcept {
  if (cp > 0x10FFFF) return Category::Undefined;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return Category::Letter;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
      return Category::Mark;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return Category::Number;
    case U_SPACE_SEPARATOR:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      return Category::Separator;
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return Category::Punctuation;
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      return Category::Symbol;
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return Category::Control;
    default:
      return Category::Undefined;
  }
}
}  // namespace

CharInfo char_info(uint32_t cp) noexcept {
  // The Basic Multilingual Plane is looked up in a table built once.
  static const std::vector<CharInfo> bmp = [] {
    std::vector<CharInfo> t(0x10000);
    for (uint32_t c = 0; c < 0x10000; ++c) {
      t[c].category = category_of(c);
      t[c].whitespace = u_isUWhiteSpace(static_cast<UChar32>(c));
      t[c].lowercase = u_charType(static_cast<UChar32>(c)) == U_LOWERCASE_LETTER;
      t[c].uppercase = u_charType(static_cast<UChar32>(c)) == U_UPPERCASE_LETTER;
    }
    return t;
  }();
  if (cp < 0x10000) return bmp[cp];
  CharInfo i;
  i.category = category_of(cp);
  if (cp <= 0x10FFFF) {
    i.lowercase = u_charType(static_cast<UChar32>(cp)) == U_LOWERCASE_LETTER;
    i.uppercase = u_charType(static_cast<UChar32>(cp)) == U_UPPERCASE_LETTER;
  }
  return i;
}

uint32_t to_lower(uint32_t cp) noexcept {
  return cp > 0x10FFFF ? cp : static_cast<uint32_t>(u_tolower(static_cast<UChar32>(cp)));
}

uint32_t nfd_first(uint32_t cp) noexcept {
  if (cp < 0xC0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return cp;
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(err);
  if (U_FAILURE(err)) return cp;
  icu::UnicodeString d;
  if (!nfd->getDecomposition(static_cast<UChar32>(cp), d) || d.isEmpty()) return cp;
  return static_cast<uint32_t>(d.char32At(0));
}

bool is_han(uint32_t c) noexcept {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0x2CEB0 && c <= 0x2EBEF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

namespace {
// GPT-2: printable Latin-1 bytes stand for themselves, the other 68 bytes
// map in order onto U+0100...
const std::array<std::string, 256>& byte_table() {
  static const std::array<std::string, 256> t = [] {
    std::array<std::string, 256> s;
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    int next = 0;
    for (int b = 0; b < 256; ++b)
      append_utf8(s[static_cast<size_t>(b)],
                  printable(b) ? static_cast<uint32_t>(b) : 256u + static_cast<uint32_t>(next++));
    return s;
  }();
  return t;
}
}  // namespace

const std::string& byte_to_symbol(uint8_t b) noexcept { return byte_table()[b]; }

int symbol_to_byte(std::string_view symbol) noexcept {
  static const std::unordered_map<std::string, int> rev = [] {
    std::unordered_map<std::string, int> m;
    for (int b = 0; b < 256; ++b) m.emplace(byte_table()[static_cast<size_t>(b)], b);
    return m;
  }();
  const auto it = rev.find(std::string(symbol));
  return it == rev.end() ? -1 : it->second;
}

}  // namespace libquant::eval::text
