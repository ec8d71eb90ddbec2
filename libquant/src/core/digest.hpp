#pragma once
// Streaming SHA-256 / SHA-1 (OpenSSL) with lower-case hex output: tokenizer
// identification hashes and hub blob names.
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace libquant {

enum class DigestKind { Sha256, Sha1 };

class Digest {
 public:
  explicit Digest(DigestKind kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void reset();  // start over, as freshly constructed
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes the digest; reset() before reuse

 private:
  DigestKind kind_;
  evp_md_ctx_st* ctx_ = nullptr;
};

std::string sha256_hex(std::string_view data);

}  // namespace libquant
