// Tokenizers on hostile text (random bytes, invalid UTF-8, special-token
// texts), one target per kind (FUZZ_TOKENIZER_KIND is spm, bpe, wpm, ugm or
// rwkv): spm/bpe/wpm over llama.cpp's test vocabularies in ../shared/vocab
// (LIBQUANT_FUZZ_VOCAB_DIR, set by run_fuzzer.sh); ugm and rwkv over small
// vocabularies written here (llama.cpp has no test files for them), ugm also
// with a precompiled character map taken from the input, so that a hostile
// map is refused (exit 6) rather than read out of bounds. Every id must be in
// the vocabulary and decoding must not fail; llama.cpp's rule for invalid
// UTF-8 (U+FFFD per stray byte) keeps every input tokenizable.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/tensor_source.hpp"

#define LQ_STR2(x) #x
#define LQ_STR(x) LQ_STR2(x)

namespace {
using libquant::io::GgufValue;

const std::string kKind = LQ_STR(FUZZ_TOKENIZER_KIND);

// A t5 or rwkv vocabulary as a GGUF file (the public way in), then its tokenizer.
std::unique_ptr<libquant::eval::Tokenizer> crafted(const std::string& charsmap) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  auto add = [&](std::string t, int32_t type) {
    scores.push_back(-static_cast<float>(tokens.size() % 97) / 7.0f - 1.0f);
    tokens.push_back(std::move(t));
    types.push_back(type);
  };
  std::vector<libquant::io::GgufKv> kvs;
  if (kKind == "ugm") {
    add("<pad>", 3), add("</s>", 3), add("<unk>", 2), add("\xe2\x96\x81", 1), add("<ud>", 4), add("<unused0>", 5);
    for (int c = 33; c < 127; ++c) {
      add(std::string(1, static_cast<char>(c)), 1);
      add("\xe2\x96\x81" + std::string(1, static_cast<char>(c)), 1);
    }
    for (const char* w : {"the", "ing", "\xe2\x96\x81the", "er", "\xc3\xa9", "\xe4\xb8\xad"}) add(w, 1);
    kvs.push_back({"tokenizer.ggml.add_space_prefix", GgufValue::boolean(true)});
    if (!charsmap.empty()) {
      std::vector<libquant::io::GgufScalar> bytes;
      for (char c : charsmap) bytes.emplace_back(static_cast<uint8_t>(c));
      kvs.push_back({"tokenizer.ggml.precompiled_charsmap", GgufValue::array(libquant::io::GgufType::UInt8, bytes)});
    }
  } else {
    add("<s>", 3);
    static const char* hex = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) add(std::string("\\x") + hex[b >> 4] + hex[b & 15], 1);
    for (const char* w : {"\\n\\n", "the", "ing", " the", "\\\\", "\\xe4\\xb8\\xad"}) add(w, 1);
  }
  kvs.push_back({"tokenizer.ggml.model", GgufValue::str(kKind == "ugm" ? "t5" : "rwkv")});
  kvs.push_back({"tokenizer.ggml.tokens", GgufValue::string_array(tokens)});
  kvs.push_back({"tokenizer.ggml.scores", GgufValue::f32_array(scores)});
  kvs.push_back({"tokenizer.ggml.token_type", GgufValue::i32_array(types)});
  const auto path = std::filesystem::temp_directory_path() / ("lq_fuzz_vocab_" + std::to_string(getpid()) + ".gguf");
  libquant::io::GgufWriter w(path, kvs, {});
  w.finish();
  auto src = libquant::model::open_tensor_source(path);
  auto tok = libquant::eval::load_tokenizer(*src);
  std::filesystem::remove(path);
  return tok;
}

std::vector<std::unique_ptr<libquant::eval::Tokenizer>> load() {
  const std::string& kind = kKind;
  const char* dir = std::getenv("LIBQUANT_FUZZ_VOCAB_DIR");
  const std::string d = dir ? dir : "../shared/vocab";
  std::vector<std::string> names;
  if (kind == "spm")
    names = {"llama-spm", "phi-3"};
  else if (kind == "bpe")
    names = {"gpt-2", "deepseek-llm", "deepseek-coder", "falcon", "starcoder", "mpt"};
  else if (kind == "wpm")
    names = {"bert-bge"};
  std::vector<std::unique_ptr<libquant::eval::Tokenizer>> out;
  if (names.empty()) out.push_back(crafted(""));
  for (const auto& n : names) {
    auto src = libquant::model::open_tensor_source(d + "/ggml-vocab-" + n + ".gguf");
    out.push_back(libquant::eval::load_tokenizer(*src));
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto toks = load();
  if (size < 1) return 0;
  if (kKind == "ugm" && (data[0] & 0x40) && size > 2) {  // a character map from the input
    const size_t n = std::min<size_t>(data[1] * 4u, size - 2);
    try {
      const auto tok = crafted(std::string(reinterpret_cast<const char*>(data + 2), n));
      const auto ids = tok->encode(std::string_view(reinterpret_cast<const char*>(data + 2 + n), size - 2 - n), true);
      for (int32_t id : ids)
        if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
    } catch (const libquant::Error& e) {
      if (e.exit_code() != 6) __builtin_trap();  // a bad map is invalid input, nothing else
    }
    return 0;
  }
  const auto& tok = toks[data[0] % toks.size()];
  const bool special = data[0] & 0x80;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto ids = tok->encode(text, special, special);
  for (int32_t id : ids)
    if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
  (void)tok->decode(ids);
  return 0;
}
