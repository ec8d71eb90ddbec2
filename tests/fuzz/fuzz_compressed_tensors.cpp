// compressed-tensors quantization_config parser: accept or throw
// libquant::Error; whatever it accepts must survive writing and parsing
// again, and answer scheme lookups.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/io/compressed_tensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace libquant::io;
  try {
    const auto qc = parse_compressed_tensors_config({reinterpret_cast<const char*>(data), size});
    const auto again = parse_compressed_tensors_config(compressed_tensors_config_json(qc));
    if (again.groups.size() != qc.groups.size() || again.ignore != qc.ignore) __builtin_trap();
    // Regex targets are left out: a fuzzed pattern can backtrack for minutes.
    bool regex = false;
    for (const auto& g : qc.groups)
      for (const auto& t : g.targets) regex |= t.rfind("re:", 0) == 0;
    for (const auto& t : qc.ignore) regex |= t.rfind("re:", 0) == 0;
    if (!regex)
      if (const CtScheme* s = scheme_for(qc, "model.layers.0.self_attn.q_proj")) (void)is_runnable_w8a8(*s);
    (void)config_json_with_quantization(R"({"architectures": ["LlamaForCausalLM"], "b": [1, 2.5, null]})", qc);
  } catch (const libquant::Error&) {}
  return 0;
}
