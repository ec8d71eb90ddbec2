// config.json parser: accept or throw libquant::Error; what it accepts keeps the
// invariants the rest relies on (attention heads, or Mamba-2 / Qwen3.5 mixer sizes).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/model/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto c = libquant::model::parse_hf_config(std::string_view(reinterpret_cast<const char*>(data), size));
    if (c.arch()->ssm) {  // Mamba-2: no attention; whatever heads it has split the inner width evenly
      if (c.ssm_heads < 0 || (c.ssm_heads > 0 && c.ssm_inner_size % c.ssm_heads != 0)) __builtin_trap();
    } else if (c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
      __builtin_trap();
    }
    if (c.arch()->gated_delta_net && (c.recurrent_layers.size() != static_cast<size_t>(c.num_layers) ||
                                      c.ssm_groups <= 0 || c.ssm_heads % c.ssm_groups != 0))
      __builtin_trap();
  } catch (const libquant::Error&) {}
  return 0;
}
