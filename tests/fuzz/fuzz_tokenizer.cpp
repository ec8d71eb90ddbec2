// Tokenizers on hostile text (random bytes, invalid UTF-8, special-token
// texts), one target per kind (built three times: FUZZ_TOKENIZER_KIND is spm,
// bpe or wpm) over llama.cpp's test vocabularies in ../shared/vocab
// (LIBQUANT_FUZZ_VOCAB_DIR, set by run_fuzzer.sh). Every id must be in the
// vocabulary and decoding must not fail; llama.cpp's rule for invalid UTF-8
// (U+FFFD per stray byte) keeps every input tokenizable.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/model/tensor_source.hpp"

#define LQ_STR2(x) #x
#define LQ_STR(x) LQ_STR2(x)

namespace {
std::vector<std::unique_ptr<libquant::eval::Tokenizer>> load() {
  const std::string kind = LQ_STR(FUZZ_TOKENIZER_KIND);
  const char* dir = std::getenv("LIBQUANT_FUZZ_VOCAB_DIR");
  const std::string d = dir ? dir : "../shared/vocab";
  std::vector<std::string> names;
  if (kind == "spm") names = {"llama-spm", "phi-3"};
  else if (kind == "bpe") names = {"gpt-2", "deepseek-llm", "deepseek-coder", "falcon", "starcoder", "mpt"};
  else names = {"bert-bge"};
  std::vector<std::unique_ptr<libquant::eval::Tokenizer>> out;
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
  const auto& tok = toks[data[0] % toks.size()];
  const bool special = data[0] & 0x80;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto ids = tok->encode(text, special, special);
  for (int32_t id : ids)
    if (id < 0 || id >= tok->vocab_size()) __builtin_trap();
  (void)tok->decode(ids);
  return 0;
}
