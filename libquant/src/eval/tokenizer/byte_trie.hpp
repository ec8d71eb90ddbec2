#pragma once
// A trie over bytes for the tokenizers that match vocabulary entries by
// prefix (UGM's Viterbi search, RWKV's longest match, UGM's user-defined
// pass-through). Nodes live in one vector and edges in one hash map keyed by
// (node, byte), so a vocabulary of 250k tokens costs a few allocations, not
// one per node.
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace libquant::eval {

class ByteTrie {
 public:
  static constexpr int32_t kRoot = 0;
  static constexpr int32_t kNone = -1;

  ByteTrie() : value_(1, kNone) {}

  void insert(std::string_view key, int32_t value) {
    int32_t node = kRoot;
    for (char c : key) {
      const uint64_t edge = edge_key(node, c);
      const auto it = edges_.find(edge);
      if (it != edges_.end()) {
        node = it->second;
      } else {
        const auto child = static_cast<int32_t>(value_.size());
        value_.push_back(kNone);
        edges_.emplace(edge, child);
        node = child;
      }
    }
    value_[static_cast<size_t>(node)] = value;
  }

  // The child of `node` along byte c, or kNone.
  int32_t next(int32_t node, char c) const {
    const auto it = edges_.find(edge_key(node, c));
    return it == edges_.end() ? kNone : it->second;
  }
  // The value stored at `node` (kNone when no key ends there).
  int32_t value(int32_t node) const { return value_[static_cast<size_t>(node)]; }
  bool empty() const noexcept { return value_.size() == 1; }

  // How far `s` can be followed from the root, whether or not a key ends there
  // (llama.cpp's UGM matches user-defined tokens this way).
  size_t walk_length(std::string_view s) const {
    int32_t node = kRoot;
    size_t n = 0;
    while (n < s.size() && (node = next(node, s[n])) != kNone) ++n;
    return n;
  }

 private:
  static uint64_t edge_key(int32_t node, char c) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(node)) << 8) | static_cast<uint8_t>(c);
  }
  std::vector<int32_t> value_;
  std::unordered_map<uint64_t, int32_t> edges_;
};

}  // namespace libquant::eval
