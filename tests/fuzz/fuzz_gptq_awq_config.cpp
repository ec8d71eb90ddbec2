// GPTQ / AWQ quantization_config parser: accept or throw libquant::Error;
// whatever it accepts must survive writing and parsing again unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/io/gptq_awq_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace libquant::io;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)quant_method_of(text);
    const GptqAwqConfig c = parse_gptq_awq_config(text);
    libquant::JsonWriter w;
    write_gptq_awq_config(w, c);
    const GptqAwqConfig again = parse_gptq_awq_config(w.str());
    if (again.layout != c.layout || again.bits != c.bits || again.group_size != c.group_size ||
        again.zeros_minus_one != c.zeros_minus_one ||
        (c.layout == IntCheckpointLayout::Gptq && again.symmetric != c.symmetric))
      __builtin_trap();
  } catch (const libquant::Error&) {}
  return 0;
}
