// UGM (SentencePiece unigram, T5-style vocabularies) as llama.cpp implements
// it: the text is normalised with the model's precompiled character map (a
// double array of byte prefixes -> replacement strings) and its whitespace
// flags, then the highest-scoring segmentation into vocabulary pieces is found
// by a Viterbi pass over code point boundaries; a code point no piece covers
// costs the unknown token's score, and runs of unknowns collapse into one.
#include <algorithm>
#include <cfloat>
#include <string>

#include "libquant/core/error.hpp"
#include "sessions.hpp"
#include "unicode_text.hpp"

namespace libquant::eval {
namespace {

[[noreturn]] void bad_charsmap(const char* what) {
  throw Error(ErrorCode::ValidationFailed, std::string("invalid tokenizer.ggml.precompiled_charsmap: ") + what,
              "The file's tokenizer metadata is corrupt; re-convert the model");
}

// Entry fields of the XOR-compressed compact double array (bit-packed u32).
uint32_t xcda_node(const Vocab& v, size_t i) {
  if (i >= v.xcda.size()) bad_charsmap("a node index is out of range");
  return v.xcda[i];
}
uint32_t xcda_base(uint32_t n) { return (n >> 10) << ((n & (1u << 9)) >> 6); }
uint32_t xcda_lcheck(uint32_t n) { return n & ((1u << 31) | 0xffu); }
bool xcda_leaf(uint32_t n) { return (n >> 8) & 1u; }
uint32_t xcda_value(uint32_t n) { return n & ((1u << 31) - 1); }

struct Normalized {
  std::string_view text;  // what the consumed input becomes
  size_t consumed;
};

// The normalisation of the input's next piece: a user-defined token passes
// through as it is, the longest prefix in the character map is replaced, a
// valid code point is kept, and an invalid byte becomes U+FFFD.
Normalized normalize_prefix(const Vocab& v, std::string_view in, size_t at) {
  const std::string_view rest = in.substr(at);
  if (const size_t n = v.user_defined_trie.walk_length(rest); n > 0) return {rest.substr(0, n), n};
  size_t best_len = 0, best_offset = 0;
  if (!v.xcda.empty()) {
    uint32_t node = xcda_base(xcda_node(v, 0));
    for (size_t k = 0; k < rest.size(); ++k) {
      const auto c = static_cast<uint8_t>(rest[k]);
      if (c == 0) break;
      node ^= c;
      const uint32_t packed = xcda_node(v, node);
      if (xcda_lcheck(packed) != c) break;
      const bool leaf = xcda_leaf(packed);
      node ^= xcda_base(packed);
      if (leaf) {
        best_len = k + 1;
        best_offset = xcda_value(xcda_node(v, node));
      }
    }
  }
  if (best_len > 0) {
    if (best_offset >= v.replacements.size()) bad_charsmap("a replacement offset is out of range");
    const size_t end = v.replacements.find('\0', best_offset);
    if (end == std::string::npos) bad_charsmap("a replacement string is not terminated");
    return {std::string_view(v.replacements).substr(best_offset, end - best_offset), best_len};
  }
  if (const size_t n = text::utf8_sequence_length(rest, 0); n > 0) return {rest.substr(0, n), n};
  return {"\xEF\xBF\xBD", 1};
}

std::string normalize(const Vocab& v, std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3);
  const std::string_view space = v.escape_whitespaces ? "\xE2\x96\x81" : " ";
  const bool prepend = !v.treat_whitespace_as_suffix && v.add_space_prefix;
  const bool append = v.treat_whitespace_as_suffix && v.add_space_prefix;
  const bool merge = v.remove_extra_whitespaces;
  bool prepended = false, in_word = false;
  for (size_t at = 0; at < in.size();) {
    const Normalized n = normalize_prefix(v, in, at);
    for (char c : n.text) {
      if (c != ' ') {
        if (!in_word) {
          in_word = true;
          if ((prepend && !prepended) || merge) {
            out.append(space);
            prepended = true;
          }
        }
        out.push_back(c);
      } else {
        in_word = false;
        if (!merge) out.append(space);
      }
    }
    at += n.consumed;
  }
  if (append) out.append(space);
  return out;
}

struct Best {
  int32_t token;
  size_t from;
  double score;
};

}  // namespace

void ugm_tokenize(const Vocab& v, std::string_view text, std::vector<int32_t>& out) {
  const std::string s = normalize(v, text);
  const size_t n = s.size();
  if (n == 0) return;
  std::vector<Best> best(n + 1, {v.unk, 0, -DBL_MAX});
  best[0] = {v.unk, 0, 0.0};
  for (size_t at = 0; at < n;) {
    const size_t cp_len = std::min(text::utf8_len(s[at]), n - at);
    const double base = best[at].score;
    bool whole_cp_covered = false;
    int32_t node = ByteTrie::kRoot;
    for (size_t end = at; end < n && (node = v.token_trie.next(node, s[end])) != ByteTrie::kNone;) {
      ++end;
      const int32_t id = v.token_trie.value(node);
      if (id == ByteTrie::kNone) continue;
      if (end - at == cp_len) whole_cp_covered = true;
      // User-defined pieces score 0 so that they win over the (negative) log-probabilities.
      const double score =
          base + ((v.attr[static_cast<size_t>(id)] & kAttrUserDefined) ? 0.0 : v.score[static_cast<size_t>(id)]);
      if (score > best[end].score) best[end] = {id, at, score};
    }
    if (!whole_cp_covered) {
      const double score = base + v.unknown_score;
      if (score > best[at + cp_len].score) best[at + cp_len] = {v.unk, at, score};
    }
    at += cp_len;
  }
  const size_t mark = out.size();
  bool prev_unknown = false;
  for (size_t at = n;;) {
    const Best& b = best[at];
    const bool unknown = b.token == v.unk;
    if (!(prev_unknown && unknown) && b.token >= 0) out.push_back(b.token);
    if (b.from == 0) break;
    prev_unknown = unknown;
    at = b.from;
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(mark), out.end());
}

}  // namespace libquant::eval
