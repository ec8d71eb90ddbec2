#include "libquant/core/crc32.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "libquant/core/error.hpp"

namespace libquant {

uint32_t crc32_update(uint32_t crc, std::span<const std::byte> data) noexcept {
  // zlib takes 32-bit lengths: feed it in chunks.
  uLong c = crc;
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    const uInt n = static_cast<uInt>(std::min<size_t>(left, size_t{1} << 30));
    c = ::crc32(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

uint32_t crc32_of_file_prefix(const std::filesystem::path& path, uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    throw Error(ErrorCode::CheckpointError, "cannot read '" + path.string() + "': " + system_error_text(errno),
                "Delete the checkpoint directory and start again");
  std::vector<std::byte> buf(size_t{1} << 20);
  uint32_t crc = 0;
  uint64_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), bytes - done)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw Error(ErrorCode::CheckpointError, "'" + path.string() + "' is shorter than its checkpoint record says",
                  "Delete the checkpoint directory and start again");
    }
    crc = crc32_update(crc, {buf.data(), static_cast<size_t>(n)});
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return crc;
}

}  // namespace libquant
