// Test helper: tokenizes llama.cpp's tokenizer test texts with a vocabulary.
//   tokenize_tool MODEL TEXTS.inp [--add-special | --prefix N]   (texts separated by "\n__ggml_vocab_test__\n")
// prints one line of token ids per text, each id preceded by a space (the
// .out layout), with add_special and parse_special off as llama.cpp's test
// (--add-special: BOS/EOS/SEP as the vocabulary says; --prefix N: encode_prefix
// with at least N ids, add_special off). MODEL is a GGUF file
// or an HF directory (its tokenizer converted as for GGUF).
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/model/tensor_source.hpp"

int main(int argc, char** argv) {
  const bool add_special = argc == 4 && std::string(argv[3]) == "--add-special";
  const bool prefix = argc == 5 && std::string(argv[3]) == "--prefix";
  if (argc != 3 && !add_special && !prefix) {
    std::cerr << "usage: tokenize_tool MODEL TEXTS.inp [--add-special | --prefix N]\n";
    return 2;
  }
  try {
    auto src = libquant::model::open_tensor_source(argv[1]);
    auto tok = libquant::eval::load_tokenizer(*src);
    std::ifstream f(argv[2], std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(f)), {});
    const std::string sep = "\n__ggml_vocab_test__\n";
    size_t at = 0;
    while (at <= all.size()) {
      size_t end = all.find(sep, at);
      if (end == std::string::npos) break;
      std::string line;
      const std::string_view text = std::string_view(all).substr(at, end - at);
      const auto ids =
          prefix ? tok->encode_prefix(text, false, std::stoul(argv[4])) : tok->encode(text, add_special, false);
      for (int32_t id : ids) line += " " + std::to_string(id);
      std::cout << line << "\n";
      at = end + sep.size();
    }
  } catch (const libquant::Error& e) {
    std::cerr << "error " << e.exit_code() << ": " << e.what() << "\n";
    return e.exit_code();
  }
  return 0;
}
