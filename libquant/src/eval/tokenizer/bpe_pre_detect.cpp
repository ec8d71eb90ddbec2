#include "bpe_pre_detect.hpp"

#include "core/digest.hpp"
#include "libquant/core/error.hpp"

namespace libquant::eval {
namespace {

struct PreHash {
  std::string_view hash, name;
};
#include "bpe_pre_hashes.inc"

}  // namespace

std::string_view pre_check_text() noexcept { return kPreCheckText; }

std::string ids_hash(const std::vector<int32_t>& ids) {
  std::string printed = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) printed += ", ";
    printed += std::to_string(ids[i]);
  }
  printed += "]";
  return sha256_hex(printed);
}

std::string_view pre_name_of_hash(std::string_view hash) noexcept {
  for (const PreHash& p : kPreHashes)
    if (p.hash == hash) return p.name;
  return {};
}

}  // namespace libquant::eval
