// Past the parser: crafted tensor headers (fuzzed_model.hpp, or raw GGUF
// bytes) through the quantize job's planner and streamer, to a GGUF type the
// input picks. A model of an unknown family skips model validation and is
// re-quantized tensor by tensor, so every shape the parser accepts reaches
// the row codecs. Nothing may crash or write outside the buffers.
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzzed_model.hpp"
#include "libquant/core/error.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path in = fuzz::scratch_path("quantize-in"), out = fuzz::scratch_path("quantize-out");
  if (!fuzz::write_fuzzed_model(data, size, in)) return 0;
  static const char* const kTypes[] = {"Q8_0", "Q4_0", "Q4_K_M", "F16", "IQ4_NL", "Q6_K", "BF16", "TQ2_0"};
  libquant::jobs::ConvertToGgufOptions o;
  o.input = in;
  o.output = out;
  o.file_type = kTypes[size ? data[size - 1] % 8 : 0];
  o.threads = 1;
  o.allow_requantize = true;
  try {
    (void)libquant::jobs::convert_to_gguf(o);
  } catch (const libquant::Error&) {}
  std::error_code ec;
  std::filesystem::remove(out, ec);
  return 0;
}
