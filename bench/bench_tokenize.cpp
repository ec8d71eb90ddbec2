// Tokenizer throughput: encodes a text with a model's vocabulary (best of 5
// runs, one thread, add_special off) and prints tokens and tokens/s. Used by
// bench/tokenizer_vs_llama_cpp.sh next to llama-cpp-python on the same text.
//   bench_tokenize MODEL TEXT [BYTES]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "libquant/eval/tokenizer.hpp"
#include "libquant/model/tensor_source.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_tokenize MODEL TEXT [BYTES]\n");
    return 2;
  }
  std::ifstream f(argv[2], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(f)), {});
  if (argc > 3) text.resize(std::min(text.size(), static_cast<size_t>(std::stoull(argv[3]))));
  auto src = libquant::model::open_tensor_source(argv[1]);
  const auto t_load = std::chrono::steady_clock::now();
  auto tok = libquant::eval::load_tokenizer(*src);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  double best = 1e30;
  size_t n = 0;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    n = tok->encode(text, false).size();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("%zu tokens in %.4f s: %.0f tokens/s (vocabulary load %.3f s)\n", n, best, static_cast<double>(n) / best,
              load_s);
  return 0;
}
