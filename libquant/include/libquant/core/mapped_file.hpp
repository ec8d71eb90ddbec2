#pragma once
// Read-only memory map of a whole file. release() hands pages back to the OS
// after they were read, so that streaming over a huge file keeps RSS flat.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API MappedFile {
 public:
  // Throws Error(ModelNotFound) if missing, Error(General) if unreadable.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  // Drop resident pages of [offset, offset+n) from this process (page cache stays).
  void release(uint64_t offset, uint64_t n) const noexcept;
  // Copy [offset, offset+dst.size()) into dst with pread: no page faults and
  // nothing added to the resident set (preferred for streaming).
  void read_into(uint64_t offset, std::span<std::byte> dst) const;

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
};

}  // namespace libquant
