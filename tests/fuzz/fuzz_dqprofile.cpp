// .dqprofile parser: accept consistently or throw libquant::Error; whatever it
// accepts must survive writing and parsing again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/methods/quant_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto p = libquant::methods::parse_profile({reinterpret_cast<const char*>(data), size});
    const auto again = libquant::methods::parse_profile(libquant::methods::profile_to_json(p));
    if (again.rules.size() != p.rules.size()) __builtin_trap();
    for (const auto& r : p.rules) (void)libquant::methods::match_rule(p, "blk.3.attn_v.weight", 8), (void)r;
  } catch (const libquant::Error&) {}
  return 0;
}
