// Super-weight JSON reader: accept consistently or throw libquant::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/methods/super_weights.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = libquant::methods::parse_super_weights({reinterpret_cast<const char*>(data), size});
    for (const auto& [name, idx] : f.mask.indices) (void)f.mask.shapes.at(name);
  } catch (const libquant::Error&) {}
  return 0;
}
