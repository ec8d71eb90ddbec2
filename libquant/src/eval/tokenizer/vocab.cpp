#include "vocab.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "libquant/core/error.hpp"
#include "pre_tokenizers.hpp"
#include "pretokenize.hpp"
#include "sessions.hpp"
#include "unicode_text.hpp"

namespace libquant::eval {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid tokenizer vocabulary: " + what,
              "The file's tokenizer.ggml.* metadata is corrupt; re-convert the model");
}

const io::GgufArray* array_of(const io::GgufHeader& h, const char* key, io::GgufType type, const char* type_name) {
  const io::GgufValue* v = h.find(key);
  if (!v) return nullptr;
  if (!v->is_array() || v->array().element_type() != type)
    invalid(std::string(key) + " is not an array of " + type_name);
  return &v->array();
}

bool flag(const io::GgufHeader& h, const char* key, bool def) {
  const io::GgufValue* v = h.find(key);
  return v ? v->as_bool() : def;
}

// llama.cpp's token types (tokenizer.ggml.token_type) as attributes.
uint32_t attr_of_type(int64_t t) {
  switch (t) {
    case 1:
      return kAttrNormal;
    case 2:
      return kAttrUnknown;
    case 3:
      return kAttrControl;
    case 4:
      return kAttrUserDefined;
    case 5:
      return kAttrUnused;
    case 6:
      return kAttrByte;
    default:
      return 0;  // undefined
  }
}

// Tokens llama.cpp recognises by their text as end-of-generation / fill-in
// markers and marks as control tokens (so plain text never produces them).
constexpr std::string_view kControlTexts[] = {"<|eot_id|>",
                                              "<|im_end|>",
                                              "<|end|>",
                                              "<end_of_turn>",
                                              "<|endoftext|>",
                                              "<|end_of_text|>",
                                              "<EOT>",
                                              "_<EOT>",
                                              "[EOT]",
                                              "[EOS]",
                                              "<｜end▁of▁sentence｜>",
                                              "<end_of_utterance>",
                                              "<|eom_id|>",
                                              "</s>",
                                              "<eos>",
                                              "<turn|>",
                                              "<|tool_response>",
                                              "[e~[",
                                              "<|fim_prefix|>",
                                              "<fim-prefix>",
                                              "<fim_prefix>",
                                              "<｜fim▁begin｜>",
                                              "<PRE>",
                                              "▁<PRE>",
                                              "<|code_prefix|>",
                                              "<|prefix|>",
                                              "<|fim_suffix|>",
                                              "<fim-suffix>",
                                              "<fim_suffix>",
                                              "<｜fim▁hole｜>",
                                              "<SUF>",
                                              "▁<SUF>",
                                              "<|code_suffix|>",
                                              "<|suffix|>",
                                              "<|fim_middle|>",
                                              "<fim-middle>",
                                              "<fim_middle>",
                                              "<｜fim▁end｜>",
                                              "<MID>",
                                              "▁<MID>",
                                              "<|code_middle|>",
                                              "<|middle|>",
                                              "<|fim_pad|>",
                                              "<fim-pad>",
                                              "<fim_pad>",
                                              "<PAD>",
                                              "[PAD]",
                                              "<|fim_repo|>",
                                              "<fim-repo>",
                                              "<REPO>",
                                              "<|fim_sep|>",
                                              "<fim-sep>",
                                              "<SEP>"};

// UGM's precompiled character map: u32 size of the double array, the array,
// then NUL-terminated replacement strings (llama.cpp's layout and checks).
void load_charsmap(const io::GgufHeader& h, Vocab& v) {
  const io::GgufValue* cm = h.find("tokenizer.ggml.precompiled_charsmap");
  if (!cm) return;
  if (!cm->is_array() ||
      (cm->array().element_type() != io::GgufType::UInt8 && cm->array().element_type() != io::GgufType::Int8))
    invalid("tokenizer.ggml.precompiled_charsmap is not an array of bytes");
  const auto bytes = cm->array().packed_bytes();
  if (bytes.size() < 4) invalid("tokenizer.ggml.precompiled_charsmap is shorter than its header");
  uint32_t blob = 0;
  for (int k = 3; k >= 0; --k) blob = (blob << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(k)]);
  if (uint64_t{blob} + 4 >= bytes.size()) invalid("tokenizer.ggml.precompiled_charsmap's double array overruns it");
  v.xcda.resize(blob / 4);
  for (size_t i = 0; i < v.xcda.size(); ++i) {
    uint32_t x = 0;
    for (int k = 3; k >= 0; --k) x = (x << 8) | static_cast<uint8_t>(bytes[4 + 4 * i + static_cast<size_t>(k)]);
    v.xcda[i] = x;
  }
  const auto* rest = reinterpret_cast<const char*>(bytes.data()) + 4 + blob;
  v.replacements.assign(rest, bytes.size() - 4 - blob);
}

void build_tries(Vocab& v) {
  if (v.kind == VocabKind::Rwkv) {
    for (size_t i = 0; i < v.text.size(); ++i) v.token_trie.insert(rwkv_unescape(v.text[i]), static_cast<int32_t>(i));
    return;
  }
  float min_score = std::numeric_limits<float>::max();
  for (size_t i = 0; i < v.text.size(); ++i) {
    const uint32_t a = v.attr[i];
    if (a & kAttrNormal) min_score = std::min(min_score, v.score[i]);
    if (a & (kAttrNormal | kAttrUserDefined | kAttrUnused)) v.token_trie.insert(v.text[i], static_cast<int32_t>(i));
    if (a & kAttrUserDefined) v.user_defined_trie.insert(v.text[i], static_cast<int32_t>(i));
  }
  v.unknown_score = static_cast<double>(min_score) - 10.0;  // llama.cpp's penalty for an unknown code point
}

}  // namespace

int32_t Vocab::rank(std::string_view left, std::string_view right) const {
  std::string key;
  key.reserve(left.size() + right.size() + 1);
  key.append(left).push_back(' ');
  key.append(right);
  const auto it = merge_rank.find(key);
  return it == merge_rank.end() ? -1 : it->second;
}

int32_t Vocab::byte_token(uint8_t b) const {
  if (kind == VocabKind::Spm || (kind == VocabKind::Bpe && !byte_encode)) {
    static const char* hex = "0123456789ABCDEF";
    const char buf[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
    const int32_t t = find(buf);
    if (t >= 0 || kind != VocabKind::Spm) return t;
    return find(std::string(1, static_cast<char>(b)));
  }
  return find(text::byte_to_symbol(b));
}

Vocab load_vocab(const io::GgufHeader& h) {
  Vocab v;
  const io::GgufValue* model = h.find("tokenizer.ggml.model");
  if (!model) throw Error(ErrorCode::ValidationFailed, "the model has no tokenizer (tokenizer.ggml.model is missing)");
  v.model = model->as_string();
  if (const io::GgufValue* pre = h.find("tokenizer.ggml.pre")) v.pre = pre->as_string();

  // Defaults per tokenizer model, as llama.cpp sets them.
  if (v.model == "llama") {
    v.kind = VocabKind::Spm;
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_space_prefix = true, v.add_bos = true;
  } else if (v.model == "bert") {
    v.kind = VocabKind::Wpm;
    v.bos = 101, v.unk = 100, v.sep = 102, v.pad = 0;
    v.add_bos = true, v.add_sep = true;
  } else if (v.model == "gpt2" || v.model == "gemma4") {
    v.kind = VocabKind::Bpe;
    v.bos = 11, v.eos = 11;
    if (v.model == "gemma4") v.pre = "gemma4", v.bos = v.eos = -1;
    v.escape_whitespaces = false;
  } else if (v.model == "t5") {
    v.kind = VocabKind::Ugm;
    v.eos = 1, v.unk = 2, v.pad = 0;
    v.add_eos = true;
  } else if (v.model == "rwkv") {
    v.kind = VocabKind::Rwkv;
    v.escape_whitespaces = false;
  } else {
    throw Error(ErrorCode::UnsupportedConversion, "tokenizer model '" + v.model + "' is not implemented",
                "Implemented: llama (SentencePiece), gpt2 and gemma4 (BPE), bert (WordPiece), t5 (unigram), rwkv");
  }
  if (v.kind == VocabKind::Bpe) {
    const PreTokenizer* pre = find_pre_tokenizer(v.pre);
    if (!pre || !pretok::supported(pre->patterns))
      throw Error(ErrorCode::UnsupportedConversion, "BPE pre-tokenizer '" + v.pre + "' is not implemented",
                  "It is named by the file's tokenizer.ggml.pre");
    v.pre_patterns = pre->patterns;
    v.byte_encode = pre->byte_encode;
    v.ignore_merges = pre->ignore_merges;
    v.add_bos = v.add_bos || pre->add_bos;
    v.add_sep = pre->add_sep;
    v.escape_whitespaces = pre->escape_whitespaces;
    if (pre->no_bos) v.bos = -1;
  }
  v.add_space_prefix = flag(h, "tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  v.remove_extra_whitespaces = flag(h, "tokenizer.ggml.remove_extra_whitespaces", false);

  // Tokens, scores and types: the arrays must agree in length and type.
  const io::GgufArray* tokens = array_of(h, "tokenizer.ggml.tokens", io::GgufType::String, "strings");
  if (!tokens) invalid("tokenizer.ggml.tokens is missing");
  const size_t n = tokens->size();
  if (n == 0 || n > (size_t{1} << 31)) invalid("tokenizer.ggml.tokens holds " + std::to_string(n) + " tokens");
  const io::GgufValue* sv = h.find("tokenizer.ggml.scores");
  const io::GgufArray* scores = nullptr;
  if (sv) {
    if (!sv->is_array() ||
        (sv->array().element_type() != io::GgufType::Float32 && sv->array().element_type() != io::GgufType::Int32))
      invalid("tokenizer.ggml.scores is not an array of f32 or i32");
    scores = &sv->array();
    if (scores->size() < n)
      invalid("tokenizer.ggml.scores has " + std::to_string(scores->size()) + " values for " + std::to_string(n) +
              " tokens");
  }
  const io::GgufArray* types = array_of(h, "tokenizer.ggml.token_type", io::GgufType::Int32, "i32");
  if (types && types->size() < n)
    invalid("tokenizer.ggml.token_type has " + std::to_string(types->size()) + " values for " + std::to_string(n) +
            " tokens");
  v.text.resize(n);
  v.score.assign(n, 0.0f);
  v.attr.assign(n, kAttrNormal);
  v.id_of.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string t(tokens->string_at(i));
    if (t.empty()) t = "[EMPTY_" + std::to_string(i) + "]";
    v.id_of[t] = static_cast<int32_t>(i);
    v.max_token_len = std::max(v.max_token_len, t.size());
    v.text[i] = std::move(t);
    if (scores) v.score[i] = static_cast<float>(scores->number_at(i));
    if (types) v.attr[i] = attr_of_type(types->integer_at(i));
  }
  if (v.id_of.size() != n) invalid("tokenizer.ggml.tokens holds duplicate tokens");

  if (v.kind == VocabKind::Bpe) {
    const io::GgufArray* merges = array_of(h, "tokenizer.ggml.merges", io::GgufType::String, "strings");
    if (!merges) invalid("a BPE vocabulary needs tokenizer.ggml.merges");
    v.merge_rank.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const std::string_view m = merges->string_at(i);
      const size_t sp = m.find(' ', 1);
      // llama.cpp splits at the first space after the first byte; a merge without one pairs "" with "".
      const std::string key = sp == std::string_view::npos ? std::string(" ") : std::string(m);
      v.merge_rank.emplace(key, static_cast<int32_t>(i));
    }
  }

  if (v.kind == VocabKind::Ugm) load_charsmap(h, v);

  // Special ids: defaults out of range are dropped; file values out of range are ignored.
  auto special = [&](const char* key, int32_t& id) {
    if (id >= 0 && static_cast<size_t>(id) >= n) id = -1;
    if (const io::GgufValue* x = h.find(key)) {
      const int64_t nid = x->as_int();
      if (nid >= 0 && static_cast<size_t>(nid) < n) id = static_cast<int32_t>(nid);
    }
  };
  special("tokenizer.ggml.bos_token_id", v.bos);
  special("tokenizer.ggml.eos_token_id", v.eos);
  special("tokenizer.ggml.unknown_token_id", v.unk);
  special("tokenizer.ggml.seperator_token_id", v.sep);
  special("tokenizer.ggml.padding_token_id", v.pad);
  v.add_bos = flag(h, "tokenizer.ggml.add_bos_token", v.add_bos);
  v.add_eos = flag(h, "tokenizer.ggml.add_eos_token", v.add_eos);
  v.add_sep = flag(h, "tokenizer.ggml.add_sep_token", v.add_sep);
  if (v.pre == "gemma4" && !v.add_bos) v.add_bos = true;
  // WordPiece normalisation (BertNormalizer): lower-case and strip accents unless the file says otherwise.
  v.lowercase = flag(h, "tokenizer.ggml.normalizer.lowercase", v.pre != "whitespace");
  v.strip_accents = flag(h, "tokenizer.ggml.normalizer.strip_accents", v.lowercase);

  for (std::string_view t : kControlTexts)
    if (const int32_t id = v.find(t); id >= 0) v.attr[static_cast<size_t>(id)] |= kAttrControl;

  // Special tokens are matched in the text before anything else, longest first.
  for (size_t i = 0; i < n; ++i)
    if (v.attr[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown))
      v.special_tokens.push_back(static_cast<int32_t>(i));
  std::stable_sort(v.special_tokens.begin(), v.special_tokens.end(), [&](int32_t a, int32_t b) {
    return v.text[static_cast<size_t>(a)].size() > v.text[static_cast<size_t>(b)].size();
  });

  if (v.kind == VocabKind::Ugm || v.kind == VocabKind::Rwkv) build_tries(v);

  // Phi-3 (by model name, as llama.cpp): special tokens swallow the spaces after them.
  if (const io::GgufValue* name = h.find("general.name"); name && name->type() == io::GgufType::String) {
    std::string lower = name->as_string();
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("phi-3") != std::string::npos || lower.find("phi3") != std::string::npos) {
      for (int32_t id : v.special_tokens) v.attr[static_cast<size_t>(id)] |= kAttrRstrip;
      if (const int32_t id = v.find("</s>"); id >= 0) v.attr[static_cast<size_t>(id)] |= kAttrRstrip;
      for (const char* t : {"<unk>", "<s>", "<|endoftext|>"})
        if (const int32_t id = v.find(t); id >= 0) v.attr[static_cast<size_t>(id)] &= ~uint32_t{kAttrRstrip};
    }
  }
  return v;
}

}  // namespace libquant::eval
