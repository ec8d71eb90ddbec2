#include "bpe_pretokenize.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

namespace libquant::eval {
namespace {

enum class Cat : uint8_t { Letter, Number, Space, Other };

struct Cp {
  UChar32 c;
  size_t offset;  // byte offset in the text
  Cat cat;
};

Cat category(UChar32 c) {
  if (c < 0) return Cat::Other;  // invalid UTF-8 byte
  if (u_isUWhiteSpace(c)) return Cat::Space;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER: case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return Cat::Letter;
    case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      return Cat::Number;
    default:
      return Cat::Other;
  }
}

std::vector<Cp> decode(std::string_view text) {
  std::vector<Cp> cps;
  cps.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto n = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    cps.push_back({c, static_cast<size_t>(start), category(c)});
  }
  return cps;
}

// The GPT-2 pattern over code points [b, e), appending byte ranges.
void gpt2_split(const std::vector<Cp>& cp, size_t b, size_t e, std::vector<std::pair<size_t, size_t>>& out) {
  size_t i = b;
  auto is = [&](size_t k, Cat c) { return k < e && cp[k].cat == c; };
  while (i < e) {
    size_t j = i;
    const UChar32 c = cp[i].c;
    // contractions (case-sensitive, as in the pattern)
    if (c == '\'' && i + 1 < e) {
      const UChar32 n1 = cp[i + 1].c;
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        j = i + 2;
      } else if (i + 2 < e) {
        const UChar32 n2 = cp[i + 2].c;
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) j = i + 3;
      }
    }
    if (j == i) {
      // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then a run of one class
      for (Cat run : {Cat::Letter, Cat::Number, Cat::Other}) {
        size_t k = i;
        if (cp[k].c == ' ' && is(k + 1, run)) ++k;
        if (!is(k, run)) continue;
        while (is(k, run)) ++k;
        j = k;
        break;
      }
    }
    if (j == i && cp[i].cat == Cat::Space) {
      // '\s+(?!\S)' keeps the last space for the next word; '\s+' takes a lone one
      size_t k = i;
      while (is(k, Cat::Space)) ++k;
      if (k < e && k - i >= 2) --k;
      j = k;
    }
    if (j == i) j = i + 1;  // unreachable for valid input; guarantees progress
    out.emplace_back(i, j);
    i = j;
  }
}

bool is_newline(UChar32 c) { return c == '\r' || c == '\n'; }

UChar32 lower(UChar32 c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// The Llama 3 pattern over code points [b, e); max_digits 3 (Llama 3) or 1 (Qwen2).
void llama3_split(const std::vector<Cp>& cp, size_t b, size_t e, int max_digits,
                  std::vector<std::pair<size_t, size_t>>& out) {
  auto is = [&](size_t k, Cat c) { return k < e && cp[k].cat == c; };
  size_t i = b;
  while (i < e) {
    size_t j = i;
    const UChar32 c = cp[i].c;
    if (c == '\'' && i + 1 < e) {  // case-insensitive contractions
      const UChar32 n1 = lower(cp[i + 1].c);
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        j = i + 2;
      } else if (i + 2 < e) {
        const UChar32 n2 = lower(cp[i + 2].c);
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) j = i + 3;
      }
    }
    if (j == i) {  // [^\r\n\p{L}\p{N}]?\p{L}+
      size_t k = i;
      if (!is_newline(c) && cp[k].cat != Cat::Letter && cp[k].cat != Cat::Number && is(k + 1, Cat::Letter)) ++k;
      if (is(k, Cat::Letter)) {
        while (is(k, Cat::Letter)) ++k;
        j = k;
      }
    }
    if (j == i && cp[i].cat == Cat::Number) {  // \p{N}{1,max}
      size_t k = i;
      while (is(k, Cat::Number) && static_cast<int>(k - i) < max_digits) ++k;
      j = k;
    }
    if (j == i) {  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
      size_t k = i;
      if (c == ' ' && is(k + 1, Cat::Other)) ++k;
      if (is(k, Cat::Other)) {
        while (is(k, Cat::Other)) ++k;
        while (k < e && is_newline(cp[k].c)) ++k;
        j = k;
      }
    }
    if (j == i && cp[i].cat == Cat::Space) {
      size_t k = i;
      while (is(k, Cat::Space)) ++k;
      size_t last_nl = k;  // '\s*[\r\n]+': up to the last newline of the run
      for (size_t m = i; m < k; ++m)
        if (is_newline(cp[m].c)) last_nl = m;
      if (last_nl < k) {
        j = last_nl + 1;
      } else {  // '\s+(?!\S)' then '\s+'
        if (k < e && k - i >= 2) --k;
        j = k;
      }
    }
    if (j == i) j = i + 1;
    out.emplace_back(i, j);
    i = j;
  }
}

}  // namespace

std::vector<std::string_view> bpe_pretokenize(std::string_view text, BpePreSplit mode) {
  const std::vector<Cp> cp = decode(text);
  std::vector<std::pair<size_t, size_t>> ranges;
  if (mode == BpePreSplit::Gpt2) {
    gpt2_split(cp, 0, cp.size(), ranges);
  } else if (mode == BpePreSplit::Llama3 || mode == BpePreSplit::Qwen2) {
    llama3_split(cp, 0, cp.size(), mode == BpePreSplit::Llama3 ? 3 : 1, ranges);
  } else {
    size_t seg = 0;
    for (size_t i = 0; i < cp.size(); ++i) {
      if (cp[i].cat != Cat::Number) continue;
      if (seg < i) gpt2_split(cp, seg, i, ranges);
      ranges.emplace_back(i, i + 1);
      seg = i + 1;
    }
    if (seg < cp.size()) gpt2_split(cp, seg, cp.size(), ranges);
  }
  std::vector<std::string_view> pieces;
  pieces.reserve(ranges.size());
  for (const auto& [b, e] : ranges) {
    const size_t from = cp[b].offset;
    const size_t to = e < cp.size() ? cp[e].offset : text.size();
    pieces.push_back(text.substr(from, to - from));
  }
  return pieces;
}

}  // namespace libquant::eval
