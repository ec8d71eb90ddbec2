// Calibration documents (JSON and JSON lines): accept or throw libquant::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/eval/calibration_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char* kind : {"json", "jsonl"}) {
    try {
      (void)libquant::eval::parse_calibration_documents(text, kind);
    } catch (const libquant::Error&) {}
  }
  return 0;
}
