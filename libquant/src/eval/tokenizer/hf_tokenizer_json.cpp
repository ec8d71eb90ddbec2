// tokenizer.json -> tokenizer.ggml.* as llama.cpp's converter writes it:
// byte-level BPE as `gpt2` (pre-tokenizer named by the check-text hash),
// SentencePiece-style BPE as `llama` (scores from the merge order),
// WordPiece as `bert` (phantom-space pieces), Unigram as `t5` (scores and the
// precompiled character map). Token types: added special tokens are control
// tokens, other added tokens user-defined, ids without a token "[PADn]".
#include <simdjson.h>

#include <cmath>
#include <map>
#include <unordered_map>

#include "bpe_pre_detect.hpp"
#include "hf_tokenizer_parts.hpp"
#include "libquant/core/error.hpp"
#include "pre_tokenizers.hpp"
#include "pretokenize.hpp"
#include "vocab.hpp"
#include "vocab_tokenizer.hpp"

namespace libquant::eval::hf {
namespace fs = std::filesystem;
using io::GgufKv;
using io::GgufValue;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

namespace {

[[noreturn]] void unsupported(const std::string& what, const std::string& hint) {
  throw Error(ErrorCode::UnsupportedConversion, what, hint);
}

struct Pieces {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;  // Unigram only
};

// The id -> text table of the model's vocabulary plus added_tokens, padded to
// the embedding size.
Pieces vocabulary(const fs::path& path, const object& root, const std::map<int64_t, std::string>& base,
                  const std::map<int64_t, float>& score_of, const model::ModelConfig& cfg) {
  std::map<int64_t, std::string> by_id = base;
  std::map<int64_t, bool> added;  // id -> special
  array added_tokens;
  if (!root["added_tokens"].get_array().get(added_tokens)) {
    for (element t : added_tokens) {
      int64_t id;
      std::string_view content;
      bool special = false;
      if (t["id"].get_int64().get(id) || t["content"].get_string().get(content) || id < 0)
        bad_tokenizer(path, "malformed added_tokens entry");
      if (t["special"].get_bool().get(special)) special = false;
      by_id[id] = std::string(content);
      added[id] = special;
    }
  }
  const int64_t max_id = by_id.empty() ? -1 : by_id.rbegin()->first;
  const int64_t n_total = std::max<int64_t>(max_id + 1, cfg.vocab_size);
  if (n_total > (int64_t{1} << 24)) bad_tokenizer(path, "vocabulary is absurdly large");
  Pieces p;
  for (int64_t i = 0; i < n_total; ++i) {
    auto it = by_id.find(i);
    auto sc = score_of.find(i);
    p.scores.push_back(sc == score_of.end() ? -10000.0f : sc->second);
    if (it == by_id.end()) {
      p.tokens.push_back("[PAD" + std::to_string(i) + "]");
      p.types.push_back(kUnused);
      continue;
    }
    p.tokens.push_back(it->second);
    auto a = added.find(i);
    p.types.push_back(a == added.end() ? kNormal : a->second ? kControl : kUserDefined);
  }
  return p;
}

std::optional<int64_t> id_of(const Pieces& p, const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  for (size_t i = 0; i < p.tokens.size(); ++i)
    if (p.tokens[i] == *text) return static_cast<int64_t>(i);
  return std::nullopt;
}

std::string_view type_of(element e) {
  std::string_view t;
  return e["type"].get_string().get(t) ? std::string_view() : t;
}

// Calls f on every component of a normalizer / pre-tokenizer (flattening Sequence).
template <typename F>
void for_each_component(element e, const char* list_key, F&& f) {
  if (e.is_null()) return;
  if (type_of(e) == "Sequence") {
    array items;
    if (!e[list_key].get_array().get(items))
      for (element x : items) for_each_component(x, list_key, f);
    return;
  }
  f(e);
}

// Special ids and BOS/EOS flags as the converter's SpecialVocab finds them:
// tokenizer_config.json first, then the post-processor's template.
void append_specials(std::vector<GgufKv>& kvs, const Pieces& p, const object& root, const model::ModelConfig& cfg,
                     const TokenizerConfig& tc) {
  std::optional<std::string> bos = tc.bos ? tc.bos : tc.cls, eos = tc.eos ? tc.eos : tc.sep;
  std::optional<bool> add_bos, add_eos;
  element post;
  if (!root["post_processor"].get(post) && !post.is_null()) {
    for_each_component(post, "processors", [&](element proc) {
      const std::string_view t = type_of(proc);
      if (t == "RobertaProcessing") add_bos = add_eos = true;
      if (t != "TemplateProcessing") return;
      array single;
      if (proc["single"].get_array().get(single) || single.size() < 2) return;
      std::string_view head, last;  // the template's first and last special tokens
      size_t i = 0;
      for (element x : single) {
        std::string_view id;
        const bool special = !x["SpecialToken"]["id"].get_string().get(id);
        if (i++ == 0 && special) head = id;
        last = special ? id : std::string_view();
      }
      if (!head.empty()) {
        if (!bos) bos = std::string(head);
        add_bos = bos == std::string(head) || tc.cls == std::string(head);
      }
      if (!last.empty()) {
        if (!eos) eos = std::string(last);
        add_eos = eos == std::string(last);
      }
    });
  }
  auto pick = [&](std::optional<int64_t> by_text, std::optional<int64_t> by_config) {
    return by_text ? by_text : by_config;
  };
  append_special(kvs, "bos_token_id", pick(id_of(p, bos), cfg.bos_token_id), p.tokens.size());
  append_special(kvs, "eos_token_id", pick(id_of(p, eos), cfg.eos_token_id), p.tokens.size());
  append_special(kvs, "unknown_token_id", id_of(p, tc.unk), p.tokens.size());
  append_special(kvs, "seperator_token_id", id_of(p, tc.sep), p.tokens.size());
  append_special(kvs, "padding_token_id", pick(id_of(p, tc.pad), cfg.pad_token_id), p.tokens.size());
  if (tc.add_bos) add_bos = tc.add_bos;
  if (tc.add_eos) add_eos = tc.add_eos;
  if (add_bos) kvs.push_back({"tokenizer.ggml.add_bos_token", GgufValue::boolean(*add_bos)});
  if (add_eos) kvs.push_back({"tokenizer.ggml.add_eos_token", GgufValue::boolean(*add_eos)});
}

// ---- byte-level BPE ---------------------------------------------------------

// model.merges in the converter's "left right" form (spaces inside a part of
// the newer [left, right] form written as U+0120).
std::vector<std::string> read_merges(const fs::path& path, const object& model) {
  std::vector<std::string> merges;
  array m;
  if (!model["merges"].get_array().get(m)) {
    for (element e : m) {
      std::string_view s;
      array pair;
      if (!e.get_string().get(s)) {
        merges.emplace_back(s);
      } else if (!e.get_array().get(pair) && pair.size() == 2) {
        std::string_view a, b;
        if ((*pair.begin()).get_string().get(a) || pair.at(1).get_string().get(b))
          bad_tokenizer(path, "malformed merge");
        // Spaces inside a part are written as U+0120, as the converter does.
        std::string joined;
        for (std::string_view part : {a, b}) {
          if (!joined.empty()) joined += ' ';
          for (char c : part) joined += c == ' ' ? std::string("\xc4\xa0") : std::string(1, c);
        }
        merges.push_back(std::move(joined));
      } else {
        bad_tokenizer(path, "malformed merge");
      }
    }
  }
  return merges;
}

std::map<int64_t, std::string> vocab_object(const fs::path& path, const object& model) {
  object vocab;
  if (model["vocab"].get_object().get(vocab)) bad_tokenizer(path, "no 'model.vocab' object");
  std::map<int64_t, std::string> base;
  for (auto kv : vocab) {
    int64_t id;
    if (kv.value.get_int64().get(id) || id < 0)
      bad_tokenizer(path, "vocab id of '" + std::string(kv.key) + "' is not a non-negative integer");
    base[id] = std::string(kv.key);
  }
  return base;
}

// The split patterns of the pre-tokenizer, in llama.cpp's spelling; nullopt
// when a component has no pattern equivalent.
std::optional<std::vector<std::string>> split_patterns(element pre, std::string& unknown) {
  std::vector<std::string> out;
  bool ok = true;
  for_each_component(pre, "pretokenizers", [&](element e) {
    const std::string_view t = type_of(e);
    if (t == "ByteLevel") {
      bool use_regex = true;
      if (e["use_regex"].get_bool().get(use_regex)) use_regex = true;
      if (use_regex) out.push_back(find_pre_tokenizer("gpt-2")->patterns.front());
    } else if (t == "Digits") {
      bool individual = false;
      if (e["individual_digits"].get_bool().get(individual)) individual = false;
      out.push_back(individual ? "\\p{N}" : "\\p{N}+");
    } else if (t == "Split") {
      std::string_view re, behavior;
      bool invert = false;
      if (e["pattern"]["Regex"].get_string().get(re) || e["behavior"].get_string().get(behavior) ||
          behavior != "Isolated" || (!e["invert"].get_bool().get(invert) && invert)) {
        ok = false, unknown = "Split (" + std::string(behavior) + ")";
        return;
      }
      out.push_back(pretok::llama_spelling(re));
    } else {
      ok = false, unknown = std::string(t);
    }
  });
  if (!ok) return std::nullopt;
  return out;
}

std::string name_pre_tokenizer(std::vector<GgufKv> kvs, const std::vector<std::string>& patterns,
                               const std::string& unknown_component) {
  std::string hash;
  if (!patterns.empty() && pretok::supported(patterns)) {
    io::GgufHeader h;
    kvs.push_back({"tokenizer.ggml.pre", GgufValue::str("gpt-2")});
    h.kvs = std::move(kvs);
    Vocab v = load_vocab(h);
    v.pre = "";
    v.pre_patterns = patterns;
    v.ignore_merges = false;
    const auto tok = make_vocab_tokenizer(std::move(v));
    hash = ids_hash(tok->encode(pre_check_text(), true, false));
    if (const std::string_view name = pre_name_of_hash(hash); !name.empty()) return std::string(name);
  }
  // Not one of the models the converter knows: a pre-tokenizer with exactly
  // the same split rules gives the same words.
  if (const char* name = pre_tokenizer_with_patterns(patterns)) return name;
  unsupported("BPE pre-tokenizer not recognised (check-text hash " + (hash.empty() ? "n/a" : hash) +
                  (unknown_component.empty() ? "" : ", component " + unknown_component) + ")",
              "llama.cpp's convert_hf_to_gguf.py refuses it as well; its split rules need a tokenizer.ggml.pre name");
}

std::vector<GgufKv> bpe_kvs(const fs::path& path, const object& root, const object& model,
                            const model::ModelConfig& cfg, const TokenizerConfig& tc) {
  const std::map<int64_t, std::string> base = vocab_object(path, model);
  const Pieces p = vocabulary(path, root, base, {}, cfg);
  const std::vector<std::string> merges = read_merges(path, model);
  std::vector<GgufKv> kvs;
  kvs.push_back({"tokenizer.ggml.model", GgufValue::str("gpt2")});
  kvs.push_back({"tokenizer.ggml.tokens", GgufValue::string_array(p.tokens)});
  kvs.push_back({"tokenizer.ggml.token_type", GgufValue::i32_array(p.types)});
  kvs.push_back({"tokenizer.ggml.merges", GgufValue::string_array(merges)});
  append_specials(kvs, p, root, cfg, tc);
  element pre;
  if (root["pre_tokenizer"].get(pre)) bad_tokenizer(path, "no 'pre_tokenizer'");
  std::string unknown;
  const auto patterns = split_patterns(pre, unknown);
  const std::string name = name_pre_tokenizer(kvs, patterns.value_or(std::vector<std::string>{}), unknown);
  kvs.insert(kvs.begin() + 1, {"tokenizer.ggml.pre", GgufValue::str(name)});
  return kvs;
}

// ---- SentencePiece-style vocabularies (llama, t5) ----------------------------

// Whether a Metaspace pre-tokenizer puts U+2581 in front of the text (left as it is without one).
void metaspace_prefix(element pre, bool& space_prefix) {
  for_each_component(pre, "pretokenizers", [&](element e) {
    std::string_view scheme;
    bool add = false;
    if (type_of(e) != "Metaspace") return;
    if (!e["prepend_scheme"].get_string().get(scheme))
      space_prefix = scheme != "never";
    else if (!e["add_prefix_space"].get_bool().get(add))
      space_prefix = add;
  });
}

std::vector<GgufKv> scored_vocabulary(const char* model, const Pieces& p, bool space_prefix) {
  return {{"tokenizer.ggml.model", GgufValue::str(model)},
          {"tokenizer.ggml.pre", GgufValue::str("default")},
          {"tokenizer.ggml.tokens", GgufValue::string_array(p.tokens)},
          {"tokenizer.ggml.scores", GgufValue::f32_array(p.scores)},
          {"tokenizer.ggml.token_type", GgufValue::i32_array(p.types)},
          {"tokenizer.ggml.add_space_prefix", GgufValue::boolean(space_prefix)}};
}

// ---- SentencePiece-style BPE (spaces as U+2581, byte fallback) -------------

// A `llama` vocabulary. llama.cpp's converter gives every piece the score
// -1000 here, which loses the merge order; a piece's score is minus the rank
// of the first merge that makes it instead, so that SentencePiece's
// best-score-first merging makes BPE's merges (HF writes a SentencePiece
// model's merges in score order, one for every split of every piece).
std::vector<GgufKv> spm_bpe_kvs(const fs::path& path, const object& root, const object& model,
                                const model::ModelConfig& cfg, const TokenizerConfig& tc) {
  const std::map<int64_t, std::string> base = vocab_object(path, model);
  const std::vector<std::string> merges = read_merges(path, model);
  std::unordered_map<std::string, size_t> made_at;
  for (size_t i = 0; i < merges.size(); ++i) {
    const size_t sp = merges[i].find(' ', 1);
    if (sp == std::string::npos) continue;
    made_at.emplace(merges[i].substr(0, sp) + merges[i].substr(sp + 1), i);
  }
  Pieces p = vocabulary(path, root, base, {}, cfg);
  std::string_view unk_text;
  if (model["unk_token"].get_string().get(unk_text)) unk_text = {};
  for (size_t i = 0; i < p.tokens.size(); ++i) {
    const std::string& t = p.tokens[i];
    if (p.types[i] != kNormal) continue;
    if (t == unk_text) {
      p.types[i] = kUnknown, p.scores[i] = 0.0f;
    } else if (t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
      p.types[i] = kByte, p.scores[i] = 0.0f;
    } else {
      const auto it = made_at.find(t);
      p.scores[i] = it != made_at.end() ? -static_cast<float>(it->second)
                                        : -static_cast<float>(merges.size() + i);  // never merged into
    }
  }
  bool space_prefix = false;
  element norm, pre;
  if (!root["normalizer"].get(norm))
    for_each_component(norm, "normalizers", [&](element e) {
      std::string_view with;
      if (type_of(e) == "Prepend" && !e["prepend"].get_string().get(with) && with == "\xe2\x96\x81")
        space_prefix = true;
    });
  if (!root["pre_tokenizer"].get(pre)) metaspace_prefix(pre, space_prefix);
  std::vector<GgufKv> kvs = scored_vocabulary("llama", p, space_prefix);
  append_special(kvs, "unknown_token_id",
                 id_of(p, unk_text.empty() ? std::nullopt : std::optional<std::string>(unk_text)), p.tokens.size());
  append_specials(kvs, p, root, cfg, tc);
  return kvs;
}

// ---- WordPiece --------------------------------------------------------------

std::vector<GgufKv> wordpiece_kvs(const fs::path& path, const object& root, const object& model,
                                  const model::ModelConfig& cfg, const TokenizerConfig& tc) {
  const std::map<int64_t, std::string> base = vocab_object(path, model);
  Pieces p = vocabulary(path, root, base, {}, cfg);
  std::vector<GgufKv> kvs;
  kvs.push_back({"tokenizer.ggml.model", GgufValue::str("bert")});
  kvs.push_back({"tokenizer.ggml.pre", GgufValue::str("default")});
  append_specials(kvs, p, root, cfg, tc);         // by the HF texts, before the phantom spaces
  for (size_t i = 0; i < p.tokens.size(); ++i) {  // llama.cpp's WPM marks word starts, not continuations
    if (p.types[i] == kControl) continue;
    std::string& t = p.tokens[i];
    t = t.rfind("##", 0) == 0 ? t.substr(2) : "\xe2\x96\x81" + t;
  }
  kvs.insert(kvs.begin() + 2, {"tokenizer.ggml.tokens", GgufValue::string_array(p.tokens)});
  kvs.insert(kvs.begin() + 3, {"tokenizer.ggml.token_type", GgufValue::i32_array(p.types)});
  element norm;
  if (!root["normalizer"].get(norm)) {
    for_each_component(norm, "normalizers", [&](element e) {
      bool b;
      if (type_of(e) == "Lowercase") kvs.push_back({"tokenizer.ggml.normalizer.lowercase", GgufValue::boolean(true)});
      if (type_of(e) == "BertNormalizer" && !e["lowercase"].get_bool().get(b))
        kvs.push_back({"tokenizer.ggml.normalizer.lowercase", GgufValue::boolean(b)});
      if (type_of(e) == "BertNormalizer" && !e["strip_accents"].get_bool().get(b))
        kvs.push_back({"tokenizer.ggml.normalizer.strip_accents", GgufValue::boolean(b)});
    });
  }
  return kvs;
}

// ---- Unigram ----------------------------------------------------------------

std::vector<GgufKv> unigram_kvs(const fs::path& path, const object& root, const object& model,
                                const model::ModelConfig& cfg, const TokenizerConfig& tc) {
  array vocab;
  if (model["vocab"].get_array().get(vocab)) bad_tokenizer(path, "no 'model.vocab' array");
  std::map<int64_t, std::string> base;
  std::map<int64_t, float> scores;
  int64_t id = 0;
  for (element e : vocab) {
    array pair;
    std::string_view piece;
    double score;
    if (e.get_array().get(pair) || pair.size() != 2 || (*pair.begin()).get_string().get(piece) ||
        pair.at(1).get_double().get(score) || !std::isfinite(score))
      bad_tokenizer(path, "a Unigram vocab entry is not [piece, finite score]");
    base[id] = std::string(piece);
    scores[id++] = static_cast<float>(score);
  }
  Pieces p = vocabulary(path, root, base, scores, cfg);
  int64_t unk = -1;
  if (!model["unk_id"].get_int64().get(unk) && unk >= 0 && static_cast<size_t>(unk) < p.types.size())
    p.types[static_cast<size_t>(unk)] = kUnknown;
  std::string charsmap;
  bool merge_spaces = false, space_prefix = false;
  element norm, pre;
  if (!root["normalizer"].get(norm)) {
    for_each_component(norm, "normalizers", [&](element e) {
      std::string_view b64, re, with;
      if (type_of(e) == "Precompiled" && !e["precompiled_charsmap"].get_string().get(b64))
        charsmap = base64_decode(path, b64);
      if (type_of(e) == "Replace" && !e["pattern"]["Regex"].get_string().get(re) && re == " {2,}" &&
          !e["content"].get_string().get(with) && with == " ")
        merge_spaces = true;
    });
  }
  if (!root["pre_tokenizer"].get(pre)) {
    for_each_component(pre, "pretokenizers", [&](element e) {
      if (type_of(e) == "WhitespaceSplit") merge_spaces = true;
    });
    metaspace_prefix(pre, space_prefix);
  }
  std::vector<GgufKv> kvs = scored_vocabulary("t5", p, space_prefix);
  kvs.push_back({"tokenizer.ggml.remove_extra_whitespaces", GgufValue::boolean(merge_spaces)});
  if (!charsmap.empty()) {
    std::vector<io::GgufScalar> bytes;
    bytes.reserve(charsmap.size());
    for (char c : charsmap) bytes.emplace_back(static_cast<uint8_t>(c));
    kvs.push_back({"tokenizer.ggml.precompiled_charsmap", GgufValue::array(io::GgufType::UInt8, bytes)});
  }
  append_special(kvs, "unknown_token_id", unk >= 0 ? std::optional<int64_t>(unk) : std::nullopt, p.tokens.size());
  append_specials(kvs, p, root, cfg, tc);
  return kvs;
}

}  // namespace

std::string base64_decode(const fs::path& path, std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) bad_tokenizer(path, "precompiled_charsmap is not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::vector<GgufKv> tokenizer_json_kvs(const fs::path& path, const model::ModelConfig& cfg, const TokenizerConfig& tc) {
  const std::string text = read_text(path);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  object root, model;
  if (parser.parse(padded).get_object().get(root)) bad_tokenizer(path, "not a JSON object");
  if (root["model"].get_object().get(model)) bad_tokenizer(path, "no 'model' object");
  std::string_view type;
  if (model["type"].get_string().get(type)) bad_tokenizer(path, "no 'model.type'");
  if (type == "WordPiece") return wordpiece_kvs(path, root, model, cfg, tc);
  if (type == "Unigram") return unigram_kvs(path, root, model, cfg, tc);
  if (type == "BPE") {
    if (text.find("\"ByteLevel\"") != std::string::npos) return bpe_kvs(path, root, model, cfg, tc);
    if (text.find("\"Metaspace\"") != std::string::npos || text.find("\"Prepend\"") != std::string::npos)
      return spm_bpe_kvs(path, root, model, cfg, tc);
    unsupported("tokenizer.json is BPE without byte-level or SentencePiece-style (U+2581) spaces",
                "llama.cpp's converter has no GGUF form for it either");
  }
  unsupported("tokenizer.json model type '" + std::string(type) + "' is not supported",
              "Supported: BPE (byte-level), WordPiece, Unigram, and SentencePiece tokenizer.model files");
}

}  // namespace libquant::eval::hf
