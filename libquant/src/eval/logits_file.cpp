#include "libquant/eval/logits_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "libquant/core/error.hpp"

namespace libquant::eval {
namespace {
constexpr char kMagic[8] = {'_', 'l', 'o', 'g', 'i', 't', 's', '_'};
constexpr float kWindow = 16.0f;  // nats below the largest logit that are kept

// Round to nearest with ties to even, as llama.cpp's float trick does for |x| < 2^22.
int nearest_int(float x) { return static_cast<int>(std::nearbyint(x)); }
}  // namespace

size_t logits_words_per_position(int32_t n_vocab) noexcept { return 2 * ((static_cast<size_t>(n_vocab) + 1) / 2) + 4; }

double encode_log_probs(const float* logits, int32_t n_vocab, int32_t target, uint16_t* out) {
  float mx = logits[0], mn = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) {
    mx = std::max(mx, logits[i]);
    mn = std::min(mn, logits[i]);
  }
  mn = std::max(mn, mx - kWindow);
  double sum = 0.0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - mx);
  const auto lse = static_cast<float>(std::log(sum));
  const float min_log_prob = mn - mx - lse;
  const float scale = (mx - mn) / 65535.0f;
  std::memcpy(out, &scale, 4);
  std::memcpy(out + 2, &min_log_prob, 4);
  uint16_t* codes = out + 4;
  std::fill(codes, codes + (logits_words_per_position(n_vocab) - 4), uint16_t{0});
  if (scale != 0.0f) {
    const float inv = 1.0f / scale;
    for (int32_t i = 0; i < n_vocab; ++i)
      if (logits[i] > mn) codes[i] = static_cast<uint16_t>(nearest_int(inv * (logits[i] - mn)));
  }
  return static_cast<double>(mx) + lse - logits[target];
}

void decode_log_probs(const uint16_t* row, int32_t n_vocab, double* log_probs) {
  float scale, min_log_prob;
  std::memcpy(&scale, row, 4);
  std::memcpy(&min_log_prob, row + 2, 4);
  for (int32_t i = 0; i < n_vocab; ++i) log_probs[i] = min_log_prob + static_cast<double>(scale) * row[4 + i];
}

LogitsFileWriter::LogitsFileWriter(const std::filesystem::path& path, int32_t n_ctx, int32_t n_vocab,
                                   std::span<const int32_t> tokens, int32_t n_chunk)
    : out_(path) {
  check(tokens.size() >= static_cast<size_t>(n_ctx) * n_chunk, ErrorCode::InvalidArgument,
        "too few tokens for the logits file");
  out_.write(kMagic, 8);
  const int32_t head[3] = {n_ctx, n_vocab, n_chunk};
  out_.write(head, sizeof head);
  out_.write(tokens.data(), static_cast<size_t>(n_ctx) * n_chunk * sizeof(int32_t));
}

void LogitsFileWriter::append(std::span<const uint16_t> row) { out_.write(row.data(), row.size_bytes()); }
void LogitsFileWriter::finish() { out_.commit(); }

LogitsFileLayout parse_logits_file(std::span<const std::byte> b) {
  auto bad = [](const std::string& what) {
    throw Error(ErrorCode::ValidationFailed, "invalid logits file: " + what, "Re-create it with `save_logits`");
  };
  LogitsFileLayout l;
  if (b.size() < 20 || std::memcmp(b.data(), kMagic, 8) != 0) bad("wrong magic");
  std::memcpy(&l.n_ctx, b.data() + 8, 4);
  std::memcpy(&l.n_vocab, b.data() + 12, 4);
  std::memcpy(&l.n_chunk, b.data() + 16, 4);
  if (l.n_ctx < 16 || l.n_ctx > (1 << 24) || l.n_vocab < 1 || l.n_vocab > (1 << 24) || l.n_chunk < 1 ||
      l.n_chunk > (1 << 24))
    bad("implausible header");
  const uint64_t n_tok = static_cast<uint64_t>(l.n_ctx) * static_cast<uint64_t>(l.n_chunk);
  l.rows_offset = 20 + n_tok * 4;
  l.n_rows = static_cast<size_t>(l.n_chunk) * static_cast<size_t>(l.n_ctx - 1 - l.n_ctx / 2);
  const uint64_t need = l.rows_offset + static_cast<uint64_t>(l.n_rows) * logits_words_per_position(l.n_vocab) * 2;
  if (b.size() != need)
    bad("size " + std::to_string(b.size()) + " does not match its header (" + std::to_string(need) + ")");
  return l;
}

LogitsFileReader::LogitsFileReader(const std::filesystem::path& path) : file_(path) {
  try {
    const LogitsFileLayout l = parse_logits_file(file_.bytes());
    n_ctx_ = l.n_ctx;
    n_vocab_ = l.n_vocab;
    n_chunk_ = l.n_chunk;
    rows_offset_ = l.rows_offset;
    n_rows_ = l.n_rows;
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + " ('" + path.string() + "')", e.suggestion());
  }
}

std::span<const int32_t> LogitsFileReader::tokens() const noexcept {
  return {reinterpret_cast<const int32_t*>(file_.bytes().data() + 20),
          static_cast<size_t>(n_ctx_) * static_cast<size_t>(n_chunk_)};
}

std::span<const uint16_t> LogitsFileReader::row(size_t i) const {
  check(i < n_rows_, ErrorCode::InvalidArgument, "logits row out of range");
  const size_t words = logits_words_per_position(n_vocab_);
  return {reinterpret_cast<const uint16_t*>(file_.bytes().data() + rows_offset_) + i * words, words};
}

}  // namespace libquant::eval
