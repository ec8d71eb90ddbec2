// config.json parser: accept or throw libquant::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/model/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto c = libquant::model::parse_hf_config(std::string_view(reinterpret_cast<const char*>(data), size));
    if (c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) __builtin_trap();
  } catch (const libquant::Error&) {
  }
  return 0;
}
