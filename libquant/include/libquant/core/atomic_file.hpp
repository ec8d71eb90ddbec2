#pragma once
// Output files that appear all at once: data goes to a temporary file next to
// the target, which is fsynced and renamed over the target on commit(). A run
// that dies before commit() leaves no file at the target path.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API AtomicFile {
 public:
  // Throws Error(General) with a clear message when the directory is missing
  // or not writable.
  explicit AtomicFile(std::filesystem::path target);
  // Resumable variant: the data goes to `partial` (kept when the run dies, so
  // a later run can resume), which is cut back to `resume_at` bytes and
  // appended to. When `expected_crc` is given, the kept bytes must have that
  // CRC-32 (what the checkpoint recorded), else Error(CheckpointError): a
  // partial file damaged since is never reused. commit() moves it to the
  // target, copying when the two are on different file systems.
  AtomicFile(std::filesystem::path target, std::filesystem::path partial, uint64_t resume_at,
             std::optional<uint32_t> expected_crc = std::nullopt);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::byte> data);
  void write(const void* data, size_t n) { write({static_cast<const std::byte*>(data), n}); }
  void write_zeros(size_t n);
  // Positioned write (for headers patched after the data is known).
  void pwrite(const void* data, size_t n, uint64_t offset);
  uint64_t size() const noexcept { return written_; }
  // Resumable files: CRC-32 of the bytes [0, size()) (pwrite must only
  // rewrite bytes with identical values, as the resumed GGUF header does).
  uint32_t crc32() const noexcept { return crc_; }
  void sync();    // fsync the data written so far (checkpoints)
  void commit();  // fsync, rename over the target, fsync the directory

  const std::filesystem::path& target() const noexcept { return target_; }
  const std::filesystem::path& temp_path() const noexcept { return temp_; }

 private:
  std::filesystem::path target_, temp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  uint32_t crc_ = 0;
  bool committed_ = false;
  bool keep_partial_ = false;
};

}  // namespace libquant
