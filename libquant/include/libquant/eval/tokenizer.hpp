#pragma once
// Tokenizers that give the same ids as the model's own: SentencePiece from an
// HF tokenizer.model, and the `llama` (SentencePiece BPE) vocabulary embedded
// in GGUF files, both through libsentencepiece.
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
  // Token ids of `text`, with BOS first when `add_bos` (and the model has one).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t bos_id() const noexcept = 0;
  virtual int32_t eos_id() const noexcept = 0;
  virtual int32_t vocab_size() const noexcept = 0;
  // Whether the model expects BOS at the start of a sequence.
  virtual bool add_bos_by_default() const noexcept = 0;
};

// The tokenizer of a checkpoint: tokenizer.model next to an HF config, or the
// vocabulary inside a GGUF file. Throws UnsupportedConversion for tokenizer
// kinds not implemented yet (byte-level BPE).
LIBQUANT_API std::unique_ptr<Tokenizer> load_tokenizer(const model::TensorSource& source);

// A SentencePiece ModelProto (serialized) equivalent to a GGUF `llama`
// vocabulary: pieces with scores and types, BPE, byte fallback, identity
// normalisation with a dummy prefix. Exposed for tests.
LIBQUANT_API std::string sentencepiece_proto_from_gguf(const io::GgufHeader& h);

}  // namespace libquant::eval
