// KL base (logits) file: accept consistently or throw libquant::Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "libquant/core/error.hpp"
#include "libquant/eval/logits_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto l = libquant::eval::parse_logits_file({reinterpret_cast<const std::byte*>(data), size});
    if (l.rows_offset > size) __builtin_trap();
  } catch (const libquant::Error&) {}
  return 0;
}
