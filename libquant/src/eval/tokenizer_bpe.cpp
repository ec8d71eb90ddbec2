// Byte-level BPE (GGUF `gpt2` vocabularies, e.g. SmolLM2): pre-tokenize, map
// bytes to the printable byte-level alphabet, merge by rank, look up ids.
#include <array>
#include <limits>
#include <unordered_map>

#include "bpe_pretokenize.hpp"
#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"

namespace libquant::eval {
namespace {

// GPT-2's reversible byte -> code point map (printable bytes map to themselves).
std::array<std::string, 256> byte_to_symbol() {
  std::array<std::string, 256> out;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const int cpv = printable ? b : 256 + extra++;
    std::string s;
    if (cpv < 0x80) {
      s += static_cast<char>(cpv);
    } else {
      s += static_cast<char>(0xC0 | (cpv >> 6));
      s += static_cast<char>(0x80 | (cpv & 0x3F));
    }
    out[static_cast<size_t>(b)] = s;
  }
  return out;
}

class ByteLevelBpe final : public Tokenizer {
 public:
  ByteLevelBpe(const io::GgufHeader& h, BpePreSplit mode) : mode_(mode), bytes_(byte_to_symbol()) {
    const io::GgufValue* tv = h.find("tokenizer.ggml.tokens");
    check(tv && tv->is_array(), ErrorCode::ValidationFailed, "GGUF file has no tokenizer.ggml.tokens");
    const io::GgufArray& toks = tv->array();
    id_to_token_.reserve(toks.size());
    for (size_t i = 0; i < toks.size(); ++i) {
      id_to_token_.emplace_back(toks.string_at(i));
      token_to_id_.emplace(id_to_token_.back(), static_cast<int32_t>(i));
    }
    const io::GgufValue* merges = h.find("tokenizer.ggml.merges");
    check(merges && merges->is_array(), ErrorCode::ValidationFailed, "gpt2 vocabulary without tokenizer.ggml.merges");
    int rank = 0;
    const io::GgufArray& ma = merges->array();
    for (size_t i = 0; i < ma.size(); ++i) ranks_.emplace(std::string(ma.string_at(i)), rank++);
    auto id_or = [&](const char* key, int32_t def) {
      const io::GgufValue* v = h.find(key);
      return v ? static_cast<int32_t>(v->as_int()) : def;
    };
    bos_ = id_or("tokenizer.ggml.bos_token_id", -1);
    eos_ = id_or("tokenizer.ggml.eos_token_id", -1);
    const io::GgufValue* ab = h.find("tokenizer.ggml.add_bos_token");
    add_bos_ = ab ? ab->as_bool() : false;
    for (int b = 0; b < 256; ++b) symbol_to_byte_.emplace(bytes_[static_cast<size_t>(b)], static_cast<char>(b));
  }

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> out;
    if (add_bos && bos_ >= 0) out.push_back(bos_);
    std::unordered_map<std::string_view, std::vector<int32_t>> cache;
    for (std::string_view piece : bpe_pretokenize(text, mode_)) {
      auto it = cache.find(piece);
      if (it == cache.end()) it = cache.emplace(piece, encode_word(piece)).first;
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
    return out;
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (int32_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
      const std::string& t = id_to_token_[static_cast<size_t>(id)];
      for (size_t i = 0; i < t.size();) {
        const size_t len = (static_cast<unsigned char>(t[i]) & 0x80) ? 2 : 1;
        auto b = symbol_to_byte_.find(t.substr(i, len));
        if (b != symbol_to_byte_.end()) out += b->second;
        i += len;
      }
    }
    return out;
  }

  int32_t bos_id() const noexcept override { return bos_; }
  int32_t eos_id() const noexcept override { return eos_; }
  int32_t vocab_size() const noexcept override { return static_cast<int32_t>(id_to_token_.size()); }
  bool add_bos_by_default() const noexcept override { return add_bos_; }

 private:
  std::vector<int32_t> encode_word(std::string_view word) const {
    std::vector<std::string> sym;
    for (unsigned char b : word) sym.push_back(bytes_[b]);
    // Merge the lowest-ranked adjacent pair (leftmost on ties) until none applies.
    for (;;) {
      int best = std::numeric_limits<int>::max();
      size_t at = 0;
      for (size_t i = 0; i + 1 < sym.size(); ++i) {
        auto r = ranks_.find(sym[i] + " " + sym[i + 1]);
        if (r != ranks_.end() && r->second < best) {
          best = r->second;
          at = i;
        }
      }
      if (best == std::numeric_limits<int>::max()) break;
      sym[at] += sym[at + 1];
      sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    std::vector<int32_t> ids;
    for (const auto& s : sym) {
      auto it = token_to_id_.find(s);
      if (it != token_to_id_.end()) {
        ids.push_back(it->second);
        continue;
      }
      // Not in the vocabulary: fall back to one token per byte symbol.
      for (size_t i = 0; i < s.size();) {
        const size_t len = (static_cast<unsigned char>(s[i]) & 0x80) ? 2 : 1;
        auto b = token_to_id_.find(s.substr(i, len));
        if (b != token_to_id_.end()) ids.push_back(b->second);
        i += len;
      }
    }
    return ids;
  }

  BpePreSplit mode_;
  std::array<std::string, 256> bytes_;
  std::unordered_map<std::string, char> symbol_to_byte_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<std::string, int> ranks_;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(const io::GgufHeader& h) {
  const io::GgufValue* pre = h.find("tokenizer.ggml.pre");
  const std::string p = pre ? pre->as_string() : "default";
  if (p == "default" || p == "gpt2" || p == "mpt" || p == "olmo")
    return std::make_unique<ByteLevelBpe>(h, BpePreSplit::Gpt2);
  if (p == "smollm" || p == "starcoder" || p == "refact" || p == "command-r" || p == "codeshell" || p == "exaone")
    return std::make_unique<ByteLevelBpe>(h, BpePreSplit::DigitsThenGpt2);
  if (p == "llama-bpe" || p == "llama3" || p == "smaug-bpe") return std::make_unique<ByteLevelBpe>(h, BpePreSplit::Llama3);
  if (p == "qwen2") return std::make_unique<ByteLevelBpe>(h, BpePreSplit::Qwen2);
  throw Error(ErrorCode::UnsupportedConversion, "BPE pre-tokenizer '" + p + "' is not implemented yet",
              "Supported: gpt2/default, the smollm family, llama-bpe (Llama 3) and qwen2");
}

}  // namespace libquant::eval
