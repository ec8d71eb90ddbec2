#pragma once
// Output files that appear all at once: data goes to a temporary file next to
// the target, which is fsynced and renamed over the target on commit(). A run
// that dies before commit() leaves no file at the target path.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API AtomicFile {
 public:
  // Throws Error(General) with a clear message when the directory is missing
  // or not writable.
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::byte> data);
  void write(const void* data, size_t n) { write({static_cast<const std::byte*>(data), n}); }
  void write_zeros(size_t n);
  // Positioned write (for headers patched after the data is known).
  void pwrite(const void* data, size_t n, uint64_t offset);
  uint64_t size() const noexcept { return written_; }
  void commit();  // fsync, rename over the target, fsync the directory

  const std::filesystem::path& target() const noexcept { return target_; }
  const std::filesystem::path& temp_path() const noexcept { return temp_; }

 private:
  std::filesystem::path target_, temp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace libquant
