#pragma once
// llama-perplexity's KL-divergence base file: "_logits_", i32 n_ctx, i32
// n_vocab, i32 n_chunk, i32 tokens[n_chunk * n_ctx], then for every scored
// position 2*ceil(n_vocab/2) + 4 u16 words: two floats (scale, min_log_prob)
// and one 16-bit code per vocabulary entry, log_prob = min_log_prob + scale *
// code, over a window of 16 nats below the largest logit.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/mapped_file.hpp"
#include "libquant/export.hpp"

namespace libquant::eval {

// Words per scored position for a vocabulary.
LIBQUANT_API size_t logits_words_per_position(int32_t n_vocab) noexcept;
// Encodes one row of logits (returns the row's NLL of `target`, as llama.cpp).
LIBQUANT_API double encode_log_probs(const float* logits, int32_t n_vocab, int32_t target, uint16_t* out);
// Decodes log-probabilities of one encoded row into `log_probs` (n_vocab).
LIBQUANT_API void decode_log_probs(const uint16_t* row, int32_t n_vocab, double* log_probs);

class LIBQUANT_API LogitsFileWriter {
 public:
  LogitsFileWriter(const std::filesystem::path& path, int32_t n_ctx, int32_t n_vocab, std::span<const int32_t> tokens,
                   int32_t n_chunk);
  void append(std::span<const uint16_t> row);  // one scored position
  void finish();

 private:
  AtomicFile out_;
};

struct LogitsFileLayout {
  int32_t n_ctx = 0, n_vocab = 0, n_chunk = 0;
  size_t rows_offset = 0, n_rows = 0;
};
// Validates a whole file image (magic, plausible header, exact size); throws
// Error(ValidationFailed) naming the problem.
LIBQUANT_API LogitsFileLayout parse_logits_file(std::span<const std::byte> file);

class LIBQUANT_API LogitsFileReader {
 public:
  explicit LogitsFileReader(const std::filesystem::path& path);  // validates sizes (exit 6 on mismatch)
  int32_t n_ctx() const noexcept { return n_ctx_; }
  int32_t n_vocab() const noexcept { return n_vocab_; }
  int32_t n_chunk() const noexcept { return n_chunk_; }
  std::span<const int32_t> tokens() const noexcept;
  // Encoded row of scored position `i` (0-based over all chunks).
  std::span<const uint16_t> row(size_t i) const;

 private:
  MappedFile file_;
  int32_t n_ctx_ = 0, n_vocab_ = 0, n_chunk_ = 0;
  size_t rows_offset_ = 0, n_rows_ = 0;
};

}  // namespace libquant::eval
