#include "libquant/core/read_file.hpp"
#include "core/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace libquant {

namespace {
[[noreturn]] void fail(ErrorCode code, std::string_view what, const std::filesystem::path& path,
                       const std::string& why) {
  throw Error(code, std::string(what) + ": '" + path.string() + "' " + why, "Check the path");
}

}  // namespace

void require_regular_file(const std::filesystem::path& path, ErrorCode code, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail(code, what, path, errno == ENOENT ? "does not exist" : system_error_text(errno));
  if (!S_ISREG(st.st_mode)) fail(code, what, path, S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
}

std::string read_whole_file(const std::filesystem::path& path, ErrorCode code, std::string_view what,
                            uint64_t max_bytes) {
  // O_NONBLOCK: a FIFO opens at once (and is refused) instead of waiting for a writer.
  const UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (f.get() < 0) fail(code, what, path, errno == ENOENT ? "does not exist" : system_error_text(errno));
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) fail(code, what, path, system_error_text(errno));
  if (!S_ISREG(st.st_mode)) fail(code, what, path, S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    fail(code, what, path, "is larger than " + std::to_string(max_bytes) + " bytes");
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(f.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(code, what, path, std::string("cannot be read: ") + system_error_text(errno));
    if (n == 0) break;  // shrank while reading
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace libquant
