#include "encode_in_pieces.hpp"

#include <algorithm>

namespace libquant::eval {
namespace {

constexpr size_t kFirstPiece = size_t{1} << 15;  // bytes; doubles while more ids are needed
constexpr size_t kWindow = 512;                  // bytes of context on each side of a cut for the check

// A line start c: just after a newline, not before another one.
bool line_start(std::string_view t, size_t c) {
  return c >= 1 && c < t.size() && t[c - 1] == '\n' && t[c] != '\n' && t[c] != '\r';
}

// The window around a cut: from the line start (or window edge) before it to the one after it.
std::pair<size_t, size_t> window(std::string_view t, size_t c) {
  size_t b = c > kWindow ? c - kWindow : 0;
  for (size_t p = c - 1; p > b; --p)
    if (line_start(t, p)) {
      b = p;
      break;
    }
  size_t e = std::min(t.size(), c + kWindow);
  for (size_t p = c + 1; p < e; ++p)
    if (line_start(t, p)) {
      e = p;
      break;
    }
  return {b, e};
}

}  // namespace

std::vector<int32_t> encode_in_pieces(std::string_view text, size_t min_tokens,
                                      const std::function<std::vector<int32_t>(std::string_view, bool)>& encode_plain,
                                      bool* whole) {
  std::vector<int32_t> out;
  size_t at = 0, piece = kFirstPiece;
  while (at < text.size()) {
    size_t cut = text.size();
    for (size_t c = at + piece; c + kWindow < text.size(); ++c) {
      if (!line_start(text, c)) continue;
      const auto [b, e] = window(text, c);
      const bool b_start = b == 0;
      auto joined = encode_plain(text.substr(b, c - b), b_start);
      const auto right = encode_plain(text.substr(c, e - c), false);
      joined.insert(joined.end(), right.begin(), right.end());
      if (joined == encode_plain(text.substr(b, e - b), b_start)) {
        cut = c;
        break;
      }
    }
    const auto ids = encode_plain(text.substr(at, cut - at), at == 0);
    out.insert(out.end(), ids.begin(), ids.end());
    at = cut;
    if (out.size() >= min_tokens) break;
    piece *= 2;
  }
  *whole = at >= text.size();
  return out;
}

}  // namespace libquant::eval
