#include "libquant/core/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libquant/core/error.hpp"

namespace libquant {

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below
  // (the flag changes nothing for regular files).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT)
      throw Error(ErrorCode::ModelNotFound, "file '" + path.string() + "' not found", "Check the path");
    throw Error(ErrorCode::General, "cannot open '" + path.string() + "': " + system_error_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorCode::ValidationFailed, "'" + path.string() + "' is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(ErrorCode::General, "cannot map '" + path.string() + "': " + system_error_text(err));
    }
    data_ = static_cast<const std::byte*>(p);
  }
  fd_ = fd;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void MappedFile::read_into(uint64_t offset, std::span<std::byte> dst) const {
  if (offset > size_ || dst.size() > size_ - offset)
    throw Error(ErrorCode::ValidationFailed, "read past the end of '" + path_.string() + "'");
  size_t done = 0;
  while (done < dst.size()) {
    const ssize_t n = ::pread(fd_, dst.data() + done, dst.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(ErrorCode::General, "cannot read '" + path_.string() + "': " + system_error_text(errno));
    done += static_cast<size_t>(n);
  }
}

void MappedFile::release(uint64_t offset, uint64_t n) const noexcept {
  if (!data_ || offset >= size_) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  // Only whole pages inside the range are dropped; edges may be shared with neighbours.
  const uint64_t begin = (offset + page - 1) / page * page;
  const uint64_t end = std::min(size_, offset + n) / page * page;
  if (end > begin) ::madvise(const_cast<std::byte*>(data_) + begin, end - begin, MADV_DONTNEED);
}

}  // namespace libquant
