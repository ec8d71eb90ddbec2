#pragma once
// Tokenizers that give the same ids as llama.cpp for the model's vocabulary:
// SentencePiece-BPE (`llama`), byte-level BPE with the pre-tokenizers
// llama.cpp knows (`gpt2`, `gemma4`), WordPiece (`bert`), unigram (`t5`) and
// RWKV (`rwkv`), read from GGUF metadata or converted from an HF
// tokenizer.model / tokenizer.json (hf_tokenizer.hpp).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::eval {

class LIBQUANT_API Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of `text`. `add_special`: BOS/EOS/SEP as the vocabulary's flags
  // say (llama.cpp's add_special); `parse_special`: control tokens written in
  // the text become those tokens (user-defined ones always do).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special = false) const = 0;
  // The beginning of encode(text, add_special): at least `min_tokens` ids
  // (all of them when the text has fewer), each equal to the whole text's id
  // at that place. Only as much text is tokenized as that needs, in pieces cut
  // at line starts where the ids are seen not to depend on the cut; so a run
  // that needs 64 x 512 tokens of a 100 MB text does not tokenize 100 MB. The
  // ids at the end of the text (EOS/SEP) come only when the whole text was read.
  virtual std::vector<int32_t> encode_prefix(std::string_view text, bool add_special, size_t min_tokens) const {
    (void)min_tokens;
    return encode(text, add_special);
  }
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t bos_id() const noexcept = 0;
  virtual int32_t eos_id() const noexcept = 0;
  virtual int32_t vocab_size() const noexcept = 0;
  // Whether the model expects BOS at the start of a sequence.
  virtual bool add_bos_by_default() const noexcept = 0;
};

// The tokenizer of a checkpoint: tokenizer.model / tokenizer.json next to an HF
// config, or the vocabulary inside a GGUF file. Throws UnsupportedConversion
// (exit 8) naming a tokenizer kind or pre-tokenizer not implemented, and
// ValidationFailed (exit 6) for inconsistent vocabulary arrays.
LIBQUANT_API std::unique_ptr<Tokenizer> load_tokenizer(const model::TensorSource& source);

// A SentencePiece ModelProto (serialized) equivalent to a GGUF `llama`
// vocabulary: pieces with scores and types, BPE, byte fallback, identity
// normalisation with a dummy prefix. Exposed for tests.
LIBQUANT_API std::string sentencepiece_proto_from_gguf(const io::GgufHeader& h);

}  // namespace libquant::eval
