// Tokenizer metadata for GGUF (tokenizer.ggml.*), as llama.cpp's converter
// writes it: SentencePiece models as `llama`, byte-level BPE as `gpt2`.
#include <sentencepiece_processor.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <sstream>

#include "libquant/core/read_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/model/gguf_metadata.hpp"

namespace libquant::model {
namespace fs = std::filesystem;
using io::GgufKv;
using io::GgufValue;

namespace {

// llama_token_type values
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

std::string read_text(const fs::path& p) { return read_whole_file(p, ErrorCode::ValidationFailed, "tokenizer file"); }

[[noreturn]] void bad_tokenizer(const fs::path& p, const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid tokenizer file '" + p.string() + "': " + what);
}

struct TokenizerConfig {
  std::optional<bool> add_bos, add_eos;
  std::optional<std::string> chat_template;
};

TokenizerConfig read_tokenizer_config(const fs::path& dir) {
  TokenizerConfig tc;
  const fs::path p = dir / "tokenizer_config.json";
  if (!fs::exists(p)) return tc;
  simdjson::dom::parser parser;
  simdjson::padded_string text(read_text(p));
  simdjson::dom::object o;
  if (parser.parse(text).get_object().get(o)) bad_tokenizer(p, "not a JSON object");
  bool b;
  if (!o["add_bos_token"].get_bool().get(b)) tc.add_bos = b;
  if (!o["add_eos_token"].get_bool().get(b)) tc.add_eos = b;
  std::string_view s;
  if (!o["chat_template"].get_string().get(s)) tc.chat_template = std::string(s);
  return tc;
}

void append_special(std::vector<GgufKv>& kvs, const char* key, std::optional<int64_t> id, size_t n_tokens) {
  if (id && *id >= 0 && static_cast<size_t>(*id) < n_tokens)
    kvs.push_back({std::string("tokenizer.ggml.") + key, GgufValue::u32(static_cast<uint32_t>(*id))});
}

std::vector<GgufKv> sentencepiece_kvs(const fs::path& model_path, const ModelConfig& cfg, const TokenizerConfig& tc) {
  sentencepiece::SentencePieceProcessor sp;
  if (!sp.Load(model_path.string()).ok()) bad_tokenizer(model_path, "not a SentencePiece model");
  const int n = sp.GetPieceSize();
  const size_t n_total = std::max<size_t>(static_cast<size_t>(n), static_cast<size_t>(cfg.vocab_size));
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(n_total);
  for (int i = 0; i < n; ++i) {
    tokens.push_back(sp.IdToPiece(i));
    scores.push_back(sp.GetScore(i));
    types.push_back(sp.IsUnknown(i) ? kUnknown : sp.IsControl(i) ? kControl : sp.IsUnused(i) ? kUnused
                    : sp.IsByte(i) ? kByte : kNormal);
  }
  // The model's embedding may be larger than the tokenizer: pad like the converter.
  for (size_t i = static_cast<size_t>(n); i < n_total; ++i) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    scores.push_back(-1000.0f);
    types.push_back(kUnused);
  }
  std::vector<GgufKv> kvs;
  kvs.push_back({"tokenizer.ggml.model", GgufValue::str("llama")});
  kvs.push_back({"tokenizer.ggml.pre", GgufValue::str("default")});
  kvs.push_back({"tokenizer.ggml.tokens", GgufValue::string_array(tokens)});
  kvs.push_back({"tokenizer.ggml.scores", GgufValue::f32_array(scores)});
  kvs.push_back({"tokenizer.ggml.token_type", GgufValue::i32_array(types)});
  auto sp_id = [](int v) { return v >= 0 ? std::optional<int64_t>(v) : std::nullopt; };
  append_special(kvs, "bos_token_id", cfg.bos_token_id ? cfg.bos_token_id : sp_id(sp.bos_id()), tokens.size());
  append_special(kvs, "eos_token_id", cfg.eos_token_id ? cfg.eos_token_id : sp_id(sp.eos_id()), tokens.size());
  append_special(kvs, "unknown_token_id", sp_id(sp.unk_id()), tokens.size());
  append_special(kvs, "padding_token_id", cfg.pad_token_id ? cfg.pad_token_id : sp_id(sp.pad_id()), tokens.size());
  kvs.push_back({"tokenizer.ggml.add_bos_token", GgufValue::boolean(tc.add_bos.value_or(true))});
  kvs.push_back({"tokenizer.ggml.add_eos_token", GgufValue::boolean(tc.add_eos.value_or(false))});
  return kvs;
}

// llama.cpp identifies BPE pre-tokenizers by hashing their output; we match the
// split regex instead, which covers the common families and says "default"
// otherwise (see docs/formats.md).
std::string detect_bpe_pre(std::string_view tokenizer_json) {
  if (tokenizer_json.find(R"(\\p{N}{1,3})") != std::string_view::npos) return "llama-bpe";
  if (tokenizer_json.find(R"([^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|)") != std::string_view::npos) return "qwen2";
  if (tokenizer_json.find("\"Digits\"") != std::string_view::npos) return "smollm";
  return "gpt2";
}

std::vector<GgufKv> bpe_kvs(const fs::path& path, const ModelConfig& cfg) {
  const std::string text = read_text(path);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::object root, model, vocab;
  if (parser.parse(padded).get_object().get(root)) bad_tokenizer(path, "not a JSON object");
  if (root["model"].get_object().get(model)) bad_tokenizer(path, "no 'model' object");
  std::string_view type;
  if (model["type"].get_string().get(type) || type != "BPE")
    throw Error(ErrorCode::UnsupportedConversion, "tokenizer.json model type '" + std::string(type) + "' is not supported",
                "Only byte-level BPE tokenizer.json files and SentencePiece tokenizer.model files are supported");
  if (model["vocab"].get_object().get(vocab)) bad_tokenizer(path, "no 'model.vocab' object");

  std::map<int64_t, std::string> by_id;
  for (auto kv : vocab) {
    int64_t id;
    if (kv.value.get_int64().get(id) || id < 0) bad_tokenizer(path, "vocab id of '" + std::string(kv.key) + "' is not a non-negative integer");
    by_id[id] = std::string(kv.key);
  }
  std::map<int64_t, bool> added;  // id -> special
  simdjson::dom::array added_tokens;
  if (!root["added_tokens"].get_array().get(added_tokens)) {
    for (auto t : added_tokens) {
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
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int64_t i = 0; i < n_total; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens.push_back("[PAD" + std::to_string(i) + "]");
      types.push_back(kUserDefined);
    } else {
      tokens.push_back(it->second);
      auto a = added.find(i);
      types.push_back(a == added.end() ? kNormal : a->second ? kControl : kUserDefined);
    }
  }
  std::vector<std::string> merges;
  simdjson::dom::array m;
  if (!model["merges"].get_array().get(m)) {
    for (auto e : m) {
      std::string_view s;
      simdjson::dom::array pair;
      if (!e.get_string().get(s)) {
        merges.emplace_back(s);
      } else if (!e.get_array().get(pair) && pair.size() == 2) {
        std::string_view a, b;
        if ((*pair.begin()).get_string().get(a) || pair.at(1).get_string().get(b)) bad_tokenizer(path, "malformed merge");
        merges.push_back(std::string(a) + " " + std::string(b));
      } else {
        bad_tokenizer(path, "malformed merge");
      }
    }
  }
  std::vector<GgufKv> kvs;
  kvs.push_back({"tokenizer.ggml.model", GgufValue::str("gpt2")});
  kvs.push_back({"tokenizer.ggml.pre", GgufValue::str(detect_bpe_pre(text))});
  kvs.push_back({"tokenizer.ggml.tokens", GgufValue::string_array(tokens)});
  kvs.push_back({"tokenizer.ggml.token_type", GgufValue::i32_array(types)});
  kvs.push_back({"tokenizer.ggml.merges", GgufValue::string_array(merges)});
  append_special(kvs, "bos_token_id", cfg.bos_token_id, tokens.size());
  append_special(kvs, "eos_token_id", cfg.eos_token_id, tokens.size());
  append_special(kvs, "padding_token_id", cfg.pad_token_id, tokens.size());
  return kvs;
}

}  // namespace

std::vector<GgufKv> tokenizer_kvs(const fs::path& hf_dir, const ModelConfig& cfg) {
  const TokenizerConfig tc = read_tokenizer_config(hf_dir);
  std::vector<GgufKv> kvs;
  if (fs::exists(hf_dir / "tokenizer.model")) {
    kvs = sentencepiece_kvs(hf_dir / "tokenizer.model", cfg, tc);
  } else if (fs::exists(hf_dir / "tokenizer.json")) {
    kvs = bpe_kvs(hf_dir / "tokenizer.json", cfg);
    if (tc.add_bos) kvs.push_back({"tokenizer.ggml.add_bos_token", GgufValue::boolean(*tc.add_bos)});
    if (tc.add_eos) kvs.push_back({"tokenizer.ggml.add_eos_token", GgufValue::boolean(*tc.add_eos)});
  } else {
    throw Error(ErrorCode::UnsupportedConversion, "'" + hf_dir.string() + "' has no tokenizer.model or tokenizer.json",
                "llama.cpp needs the tokenizer inside the GGUF; add the tokenizer files to the checkpoint");
  }
  if (tc.chat_template) kvs.push_back({"tokenizer.chat_template", GgufValue::str(*tc.chat_template)});
  return kvs;
}

}  // namespace libquant::model
