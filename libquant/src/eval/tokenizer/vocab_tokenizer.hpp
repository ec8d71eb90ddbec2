#pragma once
#include <memory>

#include "libquant/eval/tokenizer.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::eval {

// The tokenizer of a GGUF vocabulary (tokenizer.ggml.*), token for token as llama.cpp.
std::unique_ptr<Tokenizer> make_vocab_tokenizer(const io::GgufHeader& h);
// The same for a vocabulary already loaded (and perhaps adjusted, as the
// pre-tokenizer identification does with the model's own split patterns).
struct Vocab;
std::unique_ptr<Tokenizer> make_vocab_tokenizer(Vocab v);

}  // namespace libquant::eval
