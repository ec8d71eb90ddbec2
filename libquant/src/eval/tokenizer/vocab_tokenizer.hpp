#pragma once
#include <memory>

#include "libquant/eval/tokenizer.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::eval {

// The tokenizer of a GGUF vocabulary (tokenizer.ggml.*), token for token as llama.cpp.
std::unique_ptr<Tokenizer> make_vocab_tokenizer(const io::GgufHeader& h);

}  // namespace libquant::eval
