#include "pretokenize.hpp"

#include <regex>

#include "libquant/core/error.hpp"
#include "unicode_text.hpp"

namespace libquant::eval::pretok {
namespace {

using text::Category;
using Offsets = std::vector<size_t>;  // piece lengths in code points

struct Text {
  std::vector<uint32_t> cps;
  std::vector<text::CharInfo> info;
};

// Walks the pieces of `in`, calling split(begin, end, emit) for each, where
// emit(end) closes a piece at code point `end` (empty pieces are skipped).
template <typename F>
Offsets for_each_piece(const Offsets& in, F&& split) {
  Offsets out;
  out.reserve(in.size());
  size_t start = 0;
  for (size_t len : in) {
    const size_t b = start, e = start + len;
    size_t prev = b;
    auto emit = [&](size_t end) {
      if (end > prev) out.push_back(end - prev);
      const size_t n = end - prev;
      prev = end;
      return n;
    };
    split(b, e, emit);
    start = e;
  }
  return out;
}

// The end of the tokens '\s+(?!\S)|\s+' at pos (a run of spaces keeps its
// last one for the next word unless the piece ends there); a character no
// rule matched becomes a piece of its own.
template <typename Emit>
size_t whitespace_run(const Text& t, size_t pos, size_t e, Emit& emit) {
  size_t ws = 0;
  while (pos + ws < e && t.info[pos + ws].whitespace) ++ws;
  const size_t end = ws > 1 && pos + ws < e ? pos + ws - 1 : ws > 0 ? pos + ws : pos + 1;
  emit(end);
  return end;
}

bool letter(const text::CharInfo& i) { return i.category == Category::Letter; }
bool number(const text::CharInfo& i) { return i.category == Category::Number; }
bool mark(const text::CharInfo& i) { return i.category == Category::Mark; }

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
Offsets split_gpt2(const Text& t, const Offsets& in) {
  return for_each_piece(in, [&](size_t b, size_t e, auto& emit) {
    auto cp = [&](size_t p) { return p < e ? t.cps[p] : 0xFFFFFFFFu; };
    auto in_range = [&](size_t p) { return p < e; };
    auto is = [&](size_t p, auto pred) { return in_range(p) && pred(t.info[p]); };
    auto other = [&](size_t p) {
      return in_range(p) && !t.info[p].whitespace && !letter(t.info[p]) && !number(t.info[p]);
    };
    for (size_t pos = b; pos < e;) {
      const uint32_t c = cp(pos);
      if (c == '\'' && pos + 1 < e) {
        const uint32_t n1 = cp(pos + 1);
        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
          pos += emit(pos + 2);
          continue;
        }
        if (pos + 2 < e) {
          const uint32_t n2 = cp(pos + 2);
          if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
            pos += emit(pos + 3);
            continue;
          }
        }
      }
      const size_t q = c == ' ' ? pos + 1 : pos;  // the optional leading space
      if (is(q, letter) || is(q, number) || other(q)) {
        size_t p = q;
        if (is(q, letter))
          while (is(p, letter)) ++p;
        else if (is(q, number))
          while (is(p, number)) ++p;
        else
          while (other(p)) ++p;
        emit(p);
        pos = p;
        continue;
      }
      pos = whitespace_run(t, pos, e, emit);
    }
  });
}

// The Llama 3 family:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// with single digits (Qwen2) and letters that include marks (Qwen3.5).
Offsets split_llama3(const Text& t, const Offsets& in, size_t max_digits, bool marks_are_letters) {
  return for_each_piece(in, [&](size_t b, size_t e, auto& emit) {
    auto cp = [&](size_t p) { return p < e ? t.cps[p] : 0xFFFFFFFFu; };
    auto in_range = [&](size_t p) { return p < e; };
    auto word = [&](size_t p) { return in_range(p) && (letter(t.info[p]) || (marks_are_letters && mark(t.info[p]))); };
    auto num = [&](size_t p) { return in_range(p) && number(t.info[p]); };
    auto other = [&](size_t p) { return in_range(p) && !t.info[p].whitespace && !word(p) && !number(t.info[p]); };
    auto lower = [](uint32_t c) { return c < 0x80 ? text::to_lower(c) : c; };
    for (size_t pos = b; pos < e;) {
      const uint32_t c = cp(pos);
      if (c == '\'' && pos + 1 < e) {
        const uint32_t n1 = lower(cp(pos + 1));
        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
          pos += emit(pos + 2);
          continue;
        }
        if (pos + 2 < e) {
          const uint32_t n2 = lower(cp(pos + 2));
          if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
            pos += emit(pos + 3);
            continue;
          }
        }
      }
      if (c != '\r' && c != '\n' && !num(pos) && (word(pos) || word(pos + 1))) {
        ++pos;  // one optional non-letter, or the first letter
        while (word(pos)) ++pos;
        emit(pos);
        continue;
      }
      if (num(pos)) {
        size_t run = pos;
        while (num(pos))
          if (++pos - run >= max_digits) {
            emit(pos);
            run = pos;
          }
        emit(pos);
        continue;
      }
      const size_t q = c == ' ' ? pos + 1 : pos;
      if (other(q)) {
        size_t p = q;
        while (other(p)) ++p;
        while (cp(p) == '\r' || cp(p) == '\n') ++p;
        emit(p);
        pos = p;
        continue;
      }
      size_t after_newline = 0;
      for (size_t p = pos; in_range(p) && t.info[p].whitespace; ++p)
        if (cp(p) == '\r' || cp(p) == '\n') after_newline = p + 1;
      if (after_newline > 0) {  // \s*[\r\n]+
        pos = after_newline;
        emit(pos);
        continue;
      }
      pos = whitespace_run(t, pos, e, emit);
    }
  });
}

// [^\n]+|[\n]+ : runs of newlines and runs of anything else.
Offsets split_newlines(const Text& t, const Offsets& in) {
  return for_each_piece(in, [&](size_t b, size_t e, auto& emit) {
    for (size_t pos = b; pos < e;) {
      const bool nl = t.cps[pos] == '\n';
      while (pos < e && (t.cps[pos] == '\n') == nl) ++pos;
      emit(pos);
    }
  });
}

// ---- the general path ----------------------------------------------------------------------------

// The byte standing for a category in the collapsed text, and the ASCII
// members of that category (which stay themselves).
struct Collapsed {
  char code;
  const char* ascii;  // std::regex class content
};
const Collapsed* collapsed_class(std::string_view name) {
  static const Collapsed kNumber{'\xD1', "\\x30-\\x39"};
  static const Collapsed kLetter{'\xD2', "\\x41-\\x5A\\x61-\\x7A"};
  static const Collapsed kPunct{'\xD3',
                                "\\x21-\\x23\\x25-\\x2A\\x2C-\\x2F\\x3A-\\x3B\\x3F-\\x40\\x5B-\\x5D\\x5F\\x7B\\x7D"};
  static const Collapsed kMark{'\xD4', ""};
  static const Collapsed kSymbol{'\xD5', "\\x24\\x2B\\x3C-\\x3E\\x5E\\x60\\x7C\\x7E"};
  if (name == "N") return &kNumber;
  if (name == "L" || name == "Lu" || name == "Ll" || name == "Lt" || name == "Lm" || name == "Lo") return &kLetter;
  if (name == "P") return &kPunct;
  if (name == "M") return &kMark;
  if (name == "S") return &kSymbol;
  return nullptr;
}

// The \p{...} names a pattern uses (empty when none).
bool uses_categories(const std::string& re) {
  for (size_t i = re.find("\\p{"); i != std::string::npos; i = re.find("\\p{", i + 1)) {
    const size_t close = re.find('}', i + 3);
    if (close != std::string::npos && collapsed_class(std::string_view(re).substr(i + 3, close - i - 3))) return true;
  }
  return false;
}

char collapse(uint32_t cp, const text::CharInfo& i) {
  if (cp < 0x80) return static_cast<char>(cp);
  if (i.whitespace) return '\x0B';  // std::regex's \s knows no non-ASCII spaces: vertical tab stands in
  switch (i.category) {
    case Category::Number:
      return '\xD1';
    case Category::Letter:
      return '\xD2';
    case Category::Punctuation:
      return '\xD3';
    case Category::Mark:
      return '\xD4';
    case Category::Symbol:
      return '\xD5';
    default:
      return '\xD0';
  }
}

// The pattern with every \p{X} replaced by its collapsed byte class.
std::string collapse_pattern(const std::string& re) {
  for (unsigned char c : re)
    if (c >= 0x80)
      throw Error(ErrorCode::UnsupportedConversion,
                  "pre-tokenizer pattern mixes Unicode categories with non-ASCII characters: " + re);
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const bool escaped = i > 0 && re[i - 1] == '\\';
    if (re[i] == '[' && !escaped) {
      in_class = true;
      out += '[';
      continue;
    }
    if (re[i] == ']' && in_class && !escaped) {
      in_class = false;
      out += ']';
      continue;
    }
    if (re.compare(i, 3, "\\p{") == 0) {
      const size_t close = re.find('}', i + 3);
      if (close != std::string::npos && close <= i + 10)
        if (const Collapsed* c = collapsed_class(std::string_view(re).substr(i + 3, close - i - 3))) {
          if (!in_class) out += '[';
          out += c->code;
          out += c->ascii;
          if (!in_class) out += ']';
          i = close;
          continue;
        }
    }
    out += re[i];
  }
  return out;
}

template <typename CharT>
Offsets split_std_regex(const std::basic_string<CharT>& s, const std::basic_regex<CharT>& re, const Offsets& in) {
  using It = typename std::basic_string<CharT>::const_iterator;
  Offsets out;
  out.reserve(in.size());
  size_t start = 0;
  for (size_t len : in) {
    int64_t done = 0;
    for (std::regex_iterator<It> it(s.begin() + static_cast<std::ptrdiff_t>(start),
                                    s.begin() + static_cast<std::ptrdiff_t>(start + len), re),
         end;
         it != end; ++it) {
      const int64_t at = it->position(), n = it->length();
      if (at > done) out.push_back(static_cast<size_t>(at - done));
      out.push_back(static_cast<size_t>(n));
      done = at + n;
    }
    if (done < static_cast<int64_t>(len)) out.push_back(len - static_cast<size_t>(done));
    start += len;
  }
  return out;
}

enum class Custom { None, Gpt2, Llama3, Qwen2, Qwen35, Newlines };

Custom custom_of(const std::string& re) {
  if (re == "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)") return Custom::Gpt2;
  if (re ==
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
          "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" ||
      re ==
          "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
          "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    return Custom::Llama3;
  if (re ==
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    return Custom::Qwen2;
  if (re ==
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| "
      "?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    return Custom::Qwen35;
  if (re == "[^\\n]+|[\\n]+") return Custom::Newlines;
  return Custom::None;
}

std::wstring widen(const std::string& utf8) {
  const auto cps = text::decode_utf8(utf8);
  return std::wstring(cps.begin(), cps.end());
}

}  // namespace

std::string llama_spelling(std::string_view hf_regex) {
  std::string re(hf_regex);
  const std::string ci = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  if (const size_t at = re.find(ci); at != std::string::npos)
    re.replace(at, ci.size(), "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])");
  for (const char* q : {"?+", "++", "*+"})
    for (size_t at = re.find(q); at != std::string::npos; at = re.find(q, at + 1))
      if (at == 0 || re[at - 1] != '\\') re.erase(at + 1, 1);
  const std::string gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
  if (re == gpt2 + "|\\s+") re = gpt2;
  return re;
}

bool supported(const std::vector<std::string>& patterns) {
  for (const auto& re : patterns) {
    if (custom_of(re) != Custom::None) continue;
    try {
      if (uses_categories(re))
        (void)std::regex(collapse_pattern(re), std::regex::ECMAScript);
      else
        (void)std::wregex(widen(re), std::regex::ECMAScript);
    } catch (const std::exception&) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> split(std::string_view text_in, const std::vector<std::string>& patterns, bool byte_encode) {
  Text t;
  t.cps = text::decode_utf8(text_in);
  t.info.reserve(t.cps.size());
  for (uint32_t c : t.cps) t.info.push_back(text::char_info(c));
  Offsets pieces = {t.cps.size()};
  std::string collapsed;
  std::wstring wide;
  for (const auto& re : patterns) {
    switch (custom_of(re)) {
      case Custom::Gpt2:
        pieces = split_gpt2(t, pieces);
        continue;
      case Custom::Llama3:
        pieces = split_llama3(t, pieces, 3, false);
        continue;
      case Custom::Qwen2:
        pieces = split_llama3(t, pieces, 1, false);
        continue;
      case Custom::Qwen35:
        pieces = split_llama3(t, pieces, 1, true);
        continue;
      case Custom::Newlines:
        pieces = split_newlines(t, pieces);
        continue;
      case Custom::None:
        break;
    }
    try {
      if (uses_categories(re)) {
        if (collapsed.empty() && !t.cps.empty()) {
          collapsed.resize(t.cps.size());
          for (size_t i = 0; i < t.cps.size(); ++i) collapsed[i] = collapse(t.cps[i], t.info[i]);
        }
        const std::regex r(collapse_pattern(re), std::regex::ECMAScript | std::regex::optimize | std::regex::nosubs);
        pieces = split_std_regex(collapsed, r, pieces);
      } else {
        if (wide.empty() && !t.cps.empty()) {
          wide.resize(t.cps.size());
          for (size_t i = 0; i < t.cps.size(); ++i)
            wide[i] = static_cast<wchar_t>(t.cps[i] > 0x7F && t.info[i].whitespace ? 0x0B : t.cps[i]);
        }
        const std::wregex r(widen(re), std::regex::ECMAScript | std::regex::optimize | std::regex::nosubs);
        pieces = split_std_regex(wide, r, pieces);
      }
    } catch (const std::regex_error& e) {
      throw Error(ErrorCode::UnsupportedConversion, "pre-tokenizer pattern '" + re + "' cannot run: " + e.what());
    }
  }
  std::vector<std::string> words;
  words.reserve(pieces.size());
  size_t at = 0;
  for (size_t len : pieces) {
    std::string w = text::encode_utf8(t.cps, at, at + len);
    at += len;
    if (byte_encode) {
      std::string enc;
      enc.reserve(w.size() * 2);
      for (char c : w) enc += text::byte_to_symbol(static_cast<uint8_t>(c));
      w = std::move(enc);
    }
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace libquant::eval::pretok
