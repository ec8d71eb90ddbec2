// GGUF header parser: accept consistently or throw libquant::Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto h = libquant::io::parse_gguf(bytes);
    for (const auto& t : h.tensors)
      if (h.data_offset + t.offset + t.nbytes() > size) __builtin_trap();
    // Whatever was accepted must serialise again without error.
    (void)libquant::io::serialize_gguf_header(h);
    for (const auto& kv : h.kvs) (void)kv.value.to_display_string();
  } catch (const libquant::Error&) {}
  return 0;
}
