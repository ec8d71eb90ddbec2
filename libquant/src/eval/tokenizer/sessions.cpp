#include "sessions.hpp"

#include <algorithm>
#include <queue>
#include <string>
#include <unordered_map>

#include "pretokenize.hpp"
#include "unicode_text.hpp"

namespace libquant::eval {
namespace {

// A piece of the text being merged; pieces form a linked list.
struct Symbol {
  int prev, next;
  const char* text;
  size_t n;
};

// Splits `s` into UTF-8 characters (a truncated sequence at the end keeps what is there).
std::vector<Symbol> characters(std::string_view s) {
  std::vector<Symbol> sym;
  sym.reserve(s.size());
  size_t off = 0;
  int index = 0;
  while (off < s.size()) {
    const size_t len = std::min(text::utf8_len(s[off]), s.size() - off);
    sym.push_back({index - 1, off + len == s.size() ? -1 : index + 1, s.data() + off, len});
    off += len;
    ++index;
  }
  return sym;
}

// Merges symbol r into its left neighbour l in the linked list.
void merge_into_left(std::vector<Symbol>& sym, int left, int right) {
  Symbol& l = sym[static_cast<size_t>(left)];
  Symbol& r = sym[static_cast<size_t>(right)];
  l.n += r.n;
  r.n = 0;
  l.next = r.next;
  if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = left;
}

// The merge loop both BPE flavours share: seed every adjacent pair, then take
// the best pair from the queue, skip it when an earlier merge made it stale,
// merge it, and offer the new neighbour pairs.
template <typename Queue, typename Stale, typename TryPair>
void merge_all(std::vector<Symbol>& sym, Queue& queue, Stale&& stale, TryPair&& try_pair) {
  for (int i = 1; i < static_cast<int>(sym.size()); ++i) try_pair(i - 1, i);
  while (!queue.empty()) {
    const auto b = queue.top();
    queue.pop();
    if (sym[static_cast<size_t>(b.left)].n == 0 || sym[static_cast<size_t>(b.right)].n == 0 || stale(b)) continue;
    merge_into_left(sym, b.left, b.right);
    try_pair(sym[static_cast<size_t>(b.left)].prev, b.left);
    try_pair(b.left, sym[static_cast<size_t>(b.left)].next);
  }
}

}  // namespace

// ---- SentencePiece BPE: merge the adjacent pair whose result has the best score ----

void spm_tokenize(const Vocab& v, std::string_view s, std::vector<int32_t>& out) {
  std::vector<Symbol> sym = characters(s);
  struct Bigram {
    int left, right;
    float score;
    size_t size;
  };
  // Highest score first; on ties, the leftmost.
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  std::unordered_map<std::string, std::pair<int, int>> made_from;
  auto try_pair = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    std::string t(sym[static_cast<size_t>(l)].text, sym[static_cast<size_t>(l)].n + sym[static_cast<size_t>(r)].n);
    const int32_t id = v.find(t);
    if (id < 0) return;
    queue.push({l, r, v.score[static_cast<size_t>(id)], t.size()});
    made_from[std::move(t)] = {l, r};
  };
  merge_all(
      sym, queue,
      [&](const Bigram& b) {
        return sym[static_cast<size_t>(b.left)].n + sym[static_cast<size_t>(b.right)].n != b.size;
      },
      try_pair);
  // A piece that is not a token is split back along the merges that made it,
  // down to characters, which fall back to byte tokens.
  auto emit = [&](auto&& self, const Symbol& x) -> void {
    const std::string t(x.text, x.n);
    if (const int32_t id = v.find(t); id >= 0) {
      out.push_back(id);
      return;
    }
    const auto it = made_from.find(t);
    if (it == made_from.end()) {
      for (size_t j = 0; j < x.n; ++j)
        if (const int32_t id = v.byte_token(static_cast<uint8_t>(x.text[j])); id >= 0) out.push_back(id);
      return;
    }
    self(self, sym[static_cast<size_t>(it->second.first)]);
    self(self, sym[static_cast<size_t>(it->second.second)]);
  };
  if (sym.empty()) return;
  for (int i = 0; i != -1; i = sym[static_cast<size_t>(i)].next) emit(emit, sym[static_cast<size_t>(i)]);
}

// ---- byte-level BPE: within each pre-tokenized word, merge the lowest-ranked pair ----

void bpe_tokenize(const Vocab& v, std::string_view s, std::vector<int32_t>& out) {
  const std::vector<std::string> words = pretok::split(s, v.pre_patterns, v.byte_encode);
  struct Bigram {
    int left, right;
    std::string text;
    int32_t rank;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::vector<Symbol> final_syms;
  for (const std::string& w : words) {
    std::vector<Symbol> sym;
    if ((v.ignore_merges && v.find(w) >= 0) ||
        (v.pre == "gemma4" && w.find_first_not_of('\n') == std::string::npos && v.find(w) >= 0)) {
      sym.push_back({-1, -1, w.data(), w.size()});
    } else {
      sym = characters(w);
    }
    std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
    auto try_pair = [&](int l, int r) {
      if (l < 0 || r < 0) return;
      const Symbol& a = sym[static_cast<size_t>(l)];
      const Symbol& b = sym[static_cast<size_t>(r)];
      const int32_t rank = v.rank({a.text, a.n}, {b.text, b.n});
      if (rank < 0) return;
      queue.push({l, r, std::string(a.text, a.n) + std::string(b.text, b.n), rank});
    };
    merge_all(
        sym, queue,
        [&](const Bigram& b) {
          const Symbol& l = sym[static_cast<size_t>(b.left)];
          return std::string_view(l.text, l.n + sym[static_cast<size_t>(b.right)].n) !=
                 b.text;  // sizes first, then bytes
        },
        try_pair);
    for (const Symbol& x : sym)
      if (x.n > 0) {
        const std::string t(x.text, x.n);
        if (const int32_t id = v.find(t); id >= 0) {
          out.push_back(id);
          continue;
        }
        // Not a token: one token per byte where the vocabulary has one.
        for (char c : t) {
          const int32_t id = v.byte_encode ? v.find(std::string(1, c)) : v.byte_token(static_cast<uint8_t>(c));
          if (id >= 0) out.push_back(id);
        }
      }
  }
}

// ---- WordPiece: normalise, split into words, longest vocabulary match from the left ----

namespace {
bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
         (c >= 0x2B920 && c <= 0x2CEAF) ||  // as the HF Rust code (0x2B820 in Unicode)
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::vector<std::string> wpm_words(const Vocab& v, std::string_view s) {
  std::vector<std::string> words(1);
  for (uint32_t c : text::decode_utf8(s)) {
    if (v.strip_accents) c = text::nfd_first(c);
    const text::CharInfo info = text::char_info(c);
    if (info.whitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (c == 0 || c == 0xFFFD || info.category == text::Category::Control) continue;
    if (v.strip_accents && info.category == text::Category::Mark) continue;
    std::string ch;
    text::append_utf8(ch, v.lowercase ? text::to_lower(c) : c);
    if (info.category == text::Category::Punctuation || (c < 0x7F && info.category == text::Category::Symbol) ||
        is_cjk(c)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = ch;
      words.emplace_back();
    } else {
      words.back() += ch;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}
}  // namespace

void wpm_tokenize(const Vocab& v, std::string_view s, std::vector<int32_t>& out) {
  for (const std::string& w : wpm_words(v, s)) {
    if (w.empty()) continue;
    const std::string word = "\xe2\x96\x81" + w;  // the phantom space that marks a word start
    const size_t n = word.size(), mark = out.size();
    for (size_t i = 0; i < n; ++i) {
      bool found = false;
      for (size_t j = std::min(n, i + v.max_token_len + 1); j > i; --j)
        if (const int32_t id = v.find(std::string_view(word).substr(i, j - i)); id >= 0) {
          out.push_back(id);
          found = true;
          i = j - 1;
          break;
        }
      if (!found) {  // a word that cannot be spelt is one unknown token
        out.resize(mark);
        break;
      }
    }
    if (out.size() == mark && v.unk >= 0) out.push_back(v.unk);
  }
}

}  // namespace libquant::eval
