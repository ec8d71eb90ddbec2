// Legacy imatrix parser: accept consistently or throw libquant::Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "libquant/core/error.hpp"
#include "libquant/methods/importance_matrix.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto m = libquant::methods::ImportanceMatrix::parse_legacy({reinterpret_cast<const std::byte*>(data), size});
    for (const auto& e : m.entries()) (void)e.mean();
  } catch (const libquant::Error&) {}
  return 0;
}
