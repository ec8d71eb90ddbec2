// RWKV "world" vocabularies as llama.cpp tokenizes them: token texts are
// escaped byte strings (\t \n \r \xNN, backslash for the rest), and text is
// cut greedily into the longest token that matches at each position; a byte
// no token starts with is the unknown token.
#include "sessions.hpp"

namespace libquant::eval {

std::string rwkv_unescape(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 == escaped.size()) break;  // a trailing lone backslash escapes nothing
    const char e = escaped[++i];
    switch (e) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'x': {
        // Two hex digits (lower-case, as Python's repr writes them); llama.cpp
        // reads the digits with the same arithmetic and drops a cut-off escape.
        if (i + 2 >= escaped.size()) return out;
        uint8_t byte = 0;
        for (int k = 1; k <= 2; ++k) {
          const char h = escaped[i + static_cast<size_t>(k)];
          byte = static_cast<uint8_t>((byte << 4) + (h >= 'a' ? h - 'a' + 10 : h - '0'));
        }
        out.push_back(static_cast<char>(byte));
        i += 2;
        break;
      }
      default:
        out.push_back(e);
    }
  }
  return out;
}

void rwkv_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out) {
  for (size_t at = 0; at < text.size();) {
    int32_t node = ByteTrie::kRoot, id = ByteTrie::kNone;
    size_t len = 0;
    for (size_t end = at; end < text.size() && (node = v.token_trie.next(node, text[end])) != ByteTrie::kNone;) {
      ++end;
      if (const int32_t t = v.token_trie.value(node); t != ByteTrie::kNone) id = t, len = end - at;
    }
    if (id == ByteTrie::kNone) {  // no token starts here: one byte as unknown
      if (v.unk >= 0) out.push_back(v.unk);
      ++at;
      continue;
    }
    out.push_back(id);
    at += len;
  }
}

}  // namespace libquant::eval
