// The Tokenizer of a GGUF vocabulary (or of an HF tokenizer converted to one),
// following llama_vocab::tokenize: special tokens are cut out of the text
// first (control and unknown tokens only when asked to parse them), then each
// plain fragment goes through the vocabulary's algorithm, with BOS/EOS/SEP as
// the vocabulary's flags say.
#include <list>

#include "libquant/core/error.hpp"
#include "libquant/eval/hf_tokenizer.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/tensor_source.hpp"
#include "encode_in_pieces.hpp"
#include "sessions.hpp"
#include "unicode_text.hpp"
#include "vocab.hpp"
#include "vocab_tokenizer.hpp"

namespace libquant::eval {
namespace {

struct Fragment {
  int32_t token = -1;  // >= 0: a special token
  std::string_view text;
};

bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

std::list<Fragment> partition(const Vocab& v, std::string_view text, bool parse_special) {
  std::list<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, text});
  for (int32_t id : v.special_tokens) {
    const uint32_t attr = v.attr[static_cast<size_t>(id)];
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string& st = v.text[static_cast<size_t>(id)];
    for (auto it = frags.begin(); it != frags.end(); ++it) {
      if (it->token >= 0) continue;
      std::string_view rest = it->text;
      for (size_t at = rest.find(st); at != std::string_view::npos; at = rest.find(st)) {
        std::string_view left = rest.substr(0, at), right = rest.substr(at + st.size());
        if (attr & kAttrLstrip)
          while (!left.empty() && is_space_byte(left.back())) left.remove_suffix(1);
        if (attr & kAttrRstrip)
          while (!right.empty() && is_space_byte(right.front())) right.remove_prefix(1);
        if (!left.empty()) frags.insert(it, {-1, left});
        frags.insert(it, {id, {}});
        rest = right;
      }
      if (rest.size() == it->text.size()) continue;  // no match in this fragment
      if (rest.empty()) {
        it = frags.erase(it);
        --it;
      } else {
        it->text = rest;
      }
    }
  }
  return frags;
}

std::string escape_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char c : s) {
    if (c == ' ')
      out += "\xe2\x96\x81";
    else
      out += c;
  }
  return out;
}

class VocabTokenizer final : public Tokenizer {
 public:
  explicit VocabTokenizer(Vocab v) : v_(std::move(v)) {}

  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const override {
    return encode_from(text, add_special, parse_special, true);
  }

  std::vector<int32_t> encode_prefix(std::string_view text, bool add_special, size_t min_tokens) const override {
    std::vector<int32_t> out;
    if (add_special && head_token() >= 0) out.push_back(head_token());
    bool whole = false;
    const auto ids = encode_in_pieces(
        text, min_tokens, [&](std::string_view piece, bool start) { return encode_from(piece, false, false, start); },
        &whole);
    out.insert(out.end(), ids.begin(), ids.end());
    if (add_special && whole && tail_token() >= 0) out.push_back(tail_token());  // EOS/SEP only after the whole text
    return out;
  }

  // text_start: the text begins here (SentencePiece's dummy prefix goes only there).
  std::vector<int32_t> encode_from(std::string_view text, bool add_special, bool parse_special, bool text_start) const {
    std::vector<int32_t> out;
    if (add_special && head_token() >= 0) out.push_back(head_token());
    bool after_special = text_start;  // the text's start counts as after a special token
    for (const Fragment& f : partition(v_, text, parse_special)) {
      if (f.token >= 0)
        out.push_back(f.token);
      else
        tokenize_plain(f.text, after_special, out);
      after_special = f.token >= 0;
    }
    if (add_special && tail_token() >= 0) out.push_back(tail_token());
    return out;
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (int32_t id : ids) {
      if (id < 0 || id >= v_.size()) continue;
      const uint32_t attr = v_.attr[static_cast<size_t>(id)];
      const std::string& t = v_.text[static_cast<size_t>(id)];
      if (attr & (kAttrControl | kAttrUnknown)) continue;
      if (attr & kAttrByte) {  // <0xXX>
        if (t.size() == 6) out += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
        continue;
      }
      if (v_.kind == VocabKind::Bpe && v_.byte_encode) {
        for (size_t i = 0; i < t.size();) {
          const size_t len = std::min(text::utf8_len(t[i]), t.size() - i);
          const int b = text::symbol_to_byte(std::string_view(t).substr(i, len));
          if (b >= 0) out += static_cast<char>(b);
          i += len;
        }
        continue;
      }
      if (v_.kind == VocabKind::Rwkv) {
        out += rwkv_unescape(t);
        continue;
      }
      std::string piece = t;
      for (size_t at = piece.find("\xe2\x96\x81"); at != std::string::npos; at = piece.find("\xe2\x96\x81", at))
        piece.replace(at, 3, " ");
      if (v_.kind == VocabKind::Wpm && piece.rfind("##", 0) == 0) piece.erase(0, 2);
      out += piece;
    }
    return out;
  }

  int32_t bos_id() const noexcept override { return v_.bos; }
  int32_t eos_id() const noexcept override { return v_.eos; }
  int32_t vocab_size() const noexcept override { return v_.size(); }
  bool add_bos_by_default() const noexcept override { return v_.add_bos && v_.bos >= 0; }

 private:
  // The ids add_special puts in front of and after the text, per llama.cpp's kinds (-1: none).
  int32_t head_token() const noexcept {
    switch (v_.kind) {
      case VocabKind::Rwkv:
        return -1;
      case VocabKind::Wpm:
        return v_.bos;  // [CLS]
      default:
        return v_.add_bos ? v_.bos : -1;
    }
  }
  int32_t tail_token() const noexcept {
    switch (v_.kind) {
      case VocabKind::Rwkv:
        return -1;
      case VocabKind::Wpm:
        return v_.sep;  // [SEP]
      default:
        return v_.add_eos ? v_.eos : -1;
    }
  }

  // One fragment of plain text (special tokens already cut out) through the vocabulary's algorithm.
  void tokenize_plain(std::string_view text, bool after_special, std::vector<int32_t>& out) const {
    switch (v_.kind) {
      case VocabKind::Spm: {
        std::string t = v_.add_space_prefix && after_special ? std::string(" ") : std::string();
        t.append(text);
        return spm_tokenize(v_, escape_spaces(t), out);
      }
      case VocabKind::Bpe:
        if (v_.escape_whitespaces) return bpe_tokenize(v_, escape_spaces(text), out);
        return bpe_tokenize(v_, text, out);
      case VocabKind::Ugm:
        return ugm_tokenize(v_, text, out);
      case VocabKind::Rwkv:
        return rwkv_tokenize(v_, text, out);
      case VocabKind::Wpm:
        return wpm_tokenize(v_, text, out);
    }
  }

  Vocab v_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_vocab_tokenizer(const io::GgufHeader& h) {
  return std::make_unique<VocabTokenizer>(load_vocab(h));
}

std::unique_ptr<Tokenizer> make_vocab_tokenizer(Vocab v) { return std::make_unique<VocabTokenizer>(std::move(v)); }

}  // namespace libquant::eval

namespace libquant::eval {

std::unique_ptr<Tokenizer> load_tokenizer(const model::TensorSource& source) {
  if (const auto* cfg = model::hf_config(source)) {
    // tokenizer.model or tokenizer.json, as the GGUF converter would store it.
    io::GgufHeader h;
    h.kvs = hf_tokenizer_kvs(source.path(), *cfg);
    return make_vocab_tokenizer(h);
  }
  const io::GgufHeader* h = model::gguf_header(source);
  check(h != nullptr, ErrorCode::ValidationFailed, "the model carries no tokenizer");
  return make_vocab_tokenizer(*h);
}

}  // namespace libquant::eval
