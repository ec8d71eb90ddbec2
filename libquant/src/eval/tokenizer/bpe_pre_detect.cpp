#include "bpe_pre_detect.hpp"

#include <openssl/evp.h>

#include <array>

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
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  if (EVP_Digest(printed.data(), printed.size(), digest.data(), &n, EVP_sha256(), nullptr) != 1)
    throw Error(ErrorCode::General, "SHA-256 failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string_view pre_name_of_hash(std::string_view hash) noexcept {
  for (const PreHash& p : kPreHashes)
    if (p.hash == hash) return p.name;
  return {};
}

}  // namespace libquant::eval
