// Tokenizer metadata for GGUF (tokenizer.ggml.*) from an HF directory, as
// llama.cpp's converter writes it: tokenizer_config.json's flags and special
// tokens, a SentencePiece tokenizer.model as `llama`, and tokenizer.json
// (hf_tokenizer_json.cpp) otherwise.
#include <sentencepiece_processor.h>
#include <simdjson.h>

#include "hf_tokenizer_parts.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/eval/hf_tokenizer.hpp"

namespace libquant::eval::hf {
namespace fs = std::filesystem;
using io::GgufKv;
using io::GgufValue;

std::string read_text(const fs::path& p) { return read_whole_file(p, ErrorCode::ValidationFailed, "tokenizer file"); }

void bad_tokenizer(const fs::path& p, const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid tokenizer file '" + p.string() + "': " + what);
}

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
  auto token = [&](const char* key, std::optional<std::string>& out) {
    std::string_view t;
    simdjson::dom::object obj;
    // A plain string, or an AddedToken object's "content".
    if (!o[key].get_string().get(t) || (!o[key].get_object().get(obj) && !obj["content"].get_string().get(t)))
      out = std::string(t);
  };
  token("bos_token", tc.bos), token("eos_token", tc.eos), token("unk_token", tc.unk);
  token("sep_token", tc.sep), token("pad_token", tc.pad), token("cls_token", tc.cls);
  return tc;
}

void append_special(std::vector<GgufKv>& kvs, const char* key, std::optional<int64_t> id, size_t n_tokens) {
  if (id && *id >= 0 && static_cast<size_t>(*id) < n_tokens)
    kvs.push_back({std::string("tokenizer.ggml.") + key, GgufValue::u32(static_cast<uint32_t>(*id))});
}

namespace {

std::vector<GgufKv> sentencepiece_kvs(const fs::path& model_path, const model::ModelConfig& cfg,
                                      const TokenizerConfig& tc) {
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
    types.push_back(sp.IsUnknown(i)   ? kUnknown
                    : sp.IsControl(i) ? kControl
                    : sp.IsUnused(i)  ? kUnused
                    : sp.IsByte(i)    ? kByte
                                      : kNormal);
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

}  // namespace

}  // namespace libquant::eval::hf

namespace libquant::eval {
namespace fs = std::filesystem;
using io::GgufKv;
using io::GgufValue;

std::vector<GgufKv> hf_tokenizer_kvs(const fs::path& hf_dir, const model::ModelConfig& cfg) {
  using namespace hf;
  const TokenizerConfig tc = read_tokenizer_config(hf_dir);
  std::vector<GgufKv> kvs;
  if (fs::exists(hf_dir / "tokenizer.model")) {
    kvs = sentencepiece_kvs(hf_dir / "tokenizer.model", cfg, tc);
    // Gemma's SentencePiece models add no dummy prefix (the converter writes the flag).
    if (const auto* arch = cfg.arch(); arch && arch->gemma_layout)
      kvs.push_back({"tokenizer.ggml.add_space_prefix", GgufValue::boolean(false)});
  } else if (fs::exists(hf_dir / "tokenizer.json")) {
    kvs = tokenizer_json_kvs(hf_dir / "tokenizer.json", cfg, tc);
  } else {
    throw Error(ErrorCode::UnsupportedConversion, "'" + hf_dir.string() + "' has no tokenizer.model or tokenizer.json",
                "llama.cpp needs the tokenizer inside the GGUF; add the tokenizer files to the checkpoint");
  }
  if (tc.chat_template) kvs.push_back({"tokenizer.chat_template", GgufValue::str(*tc.chat_template)});
  return kvs;
}

}  // namespace libquant::eval
