// The hub API's model answer and hub references: accept or throw
// libquant::Error; whatever is accepted holds only safe relative paths and hex
// hashes (they become file names in the cache).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/io/hub.hpp"

namespace {
bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace libquant::io;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto ref = parse_hub_model_ref(text)) {
    if (ref->repo_id.find("..") != std::string_view::npos || ref->repo_id.front() == '/') __builtin_trap();
  }
  try {
    const HubRepoListing l = parse_hub_repo_listing(text);
    if (l.commit.size() != 40 || !is_hex(l.commit)) __builtin_trap();
    for (const auto& f : l.files) {
      const std::string_view p = f.path;
      if (p.empty() || p.front() == '/' || p.find("..") == 0 || p.find("/../") != std::string_view::npos ||
          p.find('\\') != std::string_view::npos || (p.size() >= 3 && p.substr(p.size() - 3) == "/.."))
        __builtin_trap();
      if (!is_hex(f.etag())) __builtin_trap();
    }
  } catch (const libquant::Error&) {}
  return 0;
}
