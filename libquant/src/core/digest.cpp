#include "digest.hpp"

#include <openssl/evp.h>

#include "libquant/core/error.hpp"

namespace libquant {

Digest::Digest(DigestKind kind) : kind_(kind) { reset(); }

Digest::~Digest() { EVP_MD_CTX_free(ctx_); }

void Digest::reset() {
  if (!ctx_) ctx_ = EVP_MD_CTX_new();
  if (!ctx_ || EVP_DigestInit_ex(ctx_, kind_ == DigestKind::Sha256 ? EVP_sha256() : EVP_sha1(), nullptr) != 1)
    throw Error(ErrorCode::General, "cannot initialise a SHA digest (OpenSSL)");
}

void Digest::update(const void* data, size_t n) {
  if (EVP_DigestUpdate(ctx_, data, n) != 1) throw Error(ErrorCode::General, "SHA digest update failed (OpenSSL)");
}

std::string Digest::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_, digest, &n) != 1) throw Error(ErrorCode::General, "SHA digest failed (OpenSSL)");
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Digest d(DigestKind::Sha256);
  d.update(data);
  return d.hex();
}

}  // namespace libquant
