// Past the parser: a crafted GGUF (fuzzed_model.hpp) through model validation
// and a 2-token forward pass, in the BLAS and the llama.cpp-exact arithmetic.
// Whatever the file claims, the result is a libquant::Error or logits; never
// an out-of-bounds access (ASan) or a crash.
#include <cmath>
#include <cstdint>
#include <filesystem>

#include "fuzzed_model.hpp"
#include "libquant/core/error.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/model/tensor_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path path = fuzz::scratch_path("forward");
  if (!fuzz::write_fuzzed_model(data, size, path)) return 0;
  const bool exact = size > 0 && (data[size - 1] & 1);
  const int32_t t0 = size > 1 ? data[size - 2] % 48 : 0, t1 = size > 2 ? data[size - 3] % 48 : 1;
  try {
    auto src = libquant::model::open_tensor_source(path);
    libquant::eval::ForwardOptions o;
    o.threads = 1;
    o.ggml_numerics = exact;
    libquant::eval::Transformer tf(*src, o);
    const auto logits = tf.forward({{t0, t1}});
    const auto vocab = static_cast<size_t>(tf.config().vocab_size);
    if (logits.size() != 2 * vocab) __builtin_trap();
  } catch (const libquant::Error&) {}
  return 0;
}
