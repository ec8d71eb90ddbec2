// Any byte string must either parse into a consistent header or be rejected
// with libquant::Error; nothing else (crashes, other exceptions) is allowed.
#include <cstddef>
#include <cstdint>
#include <span>

#include "libquant/core/error.hpp"
#include "libquant/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    std::map<std::string, std::string> meta;
    const auto entries = libquant::io::SafetensorsFile::parse_header(bytes, &meta);
    for (const auto& e : entries)
      if (e.end > size) __builtin_trap();  // accepted offsets must be inside the file
  } catch (const libquant::Error&) {}
  return 0;
}
