#pragma once
// The pieces of the HF -> GGUF tokenizer conversion: tokenizer_config.json,
// the special-token keys, and the tokenizer.json kinds.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libquant/io/gguf_file.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::eval::hf {

// llama_token_type values.
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct TokenizerConfig {
  std::optional<bool> add_bos, add_eos;
  std::optional<std::string> chat_template;
  // Special token texts (a string or {"content": ...}).
  std::optional<std::string> bos, eos, unk, sep, pad, cls;
};
TokenizerConfig read_tokenizer_config(const std::filesystem::path& dir);

[[noreturn]] void bad_tokenizer(const std::filesystem::path& p, const std::string& what);
std::string read_text(const std::filesystem::path& p);

// tokenizer.ggml.<key> = id when the id is inside the vocabulary.
void append_special(std::vector<io::GgufKv>& kvs, const char* key, std::optional<int64_t> id, size_t n_tokens);

std::string base64_decode(const std::filesystem::path& path, std::string_view in);

// tokenizer.json of any kind the converter knows (BPE byte-level, WordPiece, Unigram).
std::vector<io::GgufKv> tokenizer_json_kvs(const std::filesystem::path& path, const model::ModelConfig& cfg,
                                           const TokenizerConfig& tc);

}  // namespace libquant::eval::hf
