#pragma once
// Tokenizer metadata (tokenizer.ggml.*) for an HF checkpoint, as llama.cpp's
// HF -> GGUF converter writes it: a SentencePiece tokenizer.model as `llama`;
// tokenizer.json as `gpt2` (byte-level BPE, the pre-tokenizer named by the
// hash of the converter's check text), `bert` (WordPiece) or `t5` (Unigram,
// with its precompiled character map).
#include <filesystem>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::eval {

// Throws Error(ValidationFailed) for a malformed tokenizer file and
// Error(UnsupportedConversion) for a directory without a tokenizer, or with a
// tokenizer kind or pre-tokenizer this library cannot reproduce (naming it).
LIBQUANT_API std::vector<io::GgufKv> hf_tokenizer_kvs(const std::filesystem::path& hf_dir,
                                                      const model::ModelConfig& cfg);

}  // namespace libquant::eval
