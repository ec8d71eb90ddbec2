#include "libquant/core/checkpoint.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <cstdlib>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/crc32.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/core/read_file.hpp"

namespace libquant {
namespace fs = std::filesystem;

namespace {

// FNV-1a, 64 bit: a stable name for a configuration string.
std::string fnv1a_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

[[noreturn]] void corrupt(const fs::path& p, const std::string& why) {
  throw Error(ErrorCode::CheckpointError, "checkpoint record '" + p.string() + "' is unusable: " + why,
              "Delete it (or the whole checkpoint directory) and start again");
}

// An exclusive, non-blocking flock on `path`. The file may be unlinked by the
// previous holder's clear() between our open and our flock; then the lock we
// got is on a dead inode and we try again with the new file.
int lock_job(const fs::path& path) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw Error(ErrorCode::CheckpointError,
                  "cannot create checkpoint lock '" + path.string() + "': " + system_error_text(errno),
                  "Use a writable `checkpoint_dir`, or `checkpoint_dir = none`");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        throw Error(
            ErrorCode::CheckpointError,
            "another run of this same job is using the checkpoint directory '" + path.parent_path().string() + "'",
            "Wait for it to finish, or give this run its own `checkpoint_dir` (or `checkpoint_dir = none`)");
      throw Error(ErrorCode::CheckpointError, "cannot lock '" + path.string() + "': " + system_error_text(err));
    }
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev)
      return fd;
    ::close(fd);
  }
  throw Error(ErrorCode::CheckpointError, "cannot lock '" + path.string() + "': it keeps being replaced");
}

}  // namespace

fs::path default_checkpoint_dir() { return ".checkpoint"; }

std::string file_identity(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return fs::absolute(p).lexically_normal().string();
  return fs::absolute(p).lexically_normal().string() + "|" + std::to_string(st.st_size) + "|" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

Checkpoint::Checkpoint(fs::path dir, std::string job, std::string config)
    : dir_(std::move(dir)), job_(std::move(job)), config_(std::move(config)) {
  key_ = job_ + "-" + fnv1a_hex(job_ + "\n" + config_);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!fs::is_directory(dir_, ec))
    throw Error(ErrorCode::CheckpointError, "cannot create checkpoint directory '" + dir_.string() + "'",
                "Use a writable `checkpoint_dir`, or `checkpoint_dir = none`");
  lock_fd_ = lock_job(dir_ / (key_ + ".lock"));
}

Checkpoint::~Checkpoint() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

fs::path Checkpoint::record_path() const { return dir_ / (key_ + ".json"); }
fs::path Checkpoint::partial_path(const std::string& suffix) const { return dir_ / (key_ + suffix); }

std::optional<CheckpointRecord> Checkpoint::load_record() const {
  const fs::path p = record_path();
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string text(read_whole_file(p, ErrorCode::CheckpointError, "checkpoint record", 64u << 20));
  if (parser.parse(text).get(doc)) corrupt(p, "not valid JSON");
  std::string_view job, config;
  CheckpointRecord r;
  if (doc["job"].get(job) || doc["config"].get(config) || doc["done"].get(r.done)) corrupt(p, "missing fields");
  // Same key but different text would be a hash collision: refuse, never guess.
  if (job != job_ || config != config_) corrupt(p, "it was made by a different job");
  uint64_t crc = 0;
  if (!doc["crc32"].get(crc)) {
    if (crc > 0xffffffffu || doc["bytes"].get(r.bytes)) corrupt(p, "bad checksum fields");
    r.crc32 = static_cast<uint32_t>(crc);
  }
  return r;
}

std::optional<uint64_t> Checkpoint::load() const {
  const auto r = load_record();
  return r ? std::optional<uint64_t>(r->done) : std::nullopt;
}

void Checkpoint::save(uint64_t done) const { save(CheckpointRecord{done, std::nullopt, 0}); }

void Checkpoint::save(const CheckpointRecord& r) const {
  JsonWriter j(1);
  j.begin_object().field("job", job_).field("config", config_).field("done", r.done);
  if (r.crc32) j.field("crc32", static_cast<uint64_t>(*r.crc32)).field("bytes", r.bytes);
  j.end_object();
  AtomicFile out(record_path());
  out.write(j.str().data(), j.str().size());
  out.commit();
}

void Checkpoint::save_with_partial(uint64_t done, const fs::path& partial) const {
  const uint64_t bytes = fs::file_size(partial);
  save(CheckpointRecord{done, crc32_of_file_prefix(partial, bytes), bytes});
}

void Checkpoint::verify_partial(const CheckpointRecord& r, const fs::path& partial) const {
  std::error_code ec;
  const uint64_t size = fs::file_size(partial, ec);
  if (ec || !r.crc32 || size != r.bytes || crc32_of_file_prefix(partial, r.bytes) != *r.crc32)
    throw Error(ErrorCode::CheckpointError, "checkpoint data '" + partial.string() + "' changed since its record",
                "Delete the checkpoint directory and start afresh");
}

void Checkpoint::clear() const {
  std::error_code ec;
  fs::remove(record_path(), ec);
  // The lock file goes too (last, while still held; see lock_job).
  const std::string lock = key_ + ".lock";
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.path().filename().string().rfind(key_, 0) == 0 && e.path().filename() != lock) fs::remove(e.path(), ec);
  fs::remove(dir_ / lock, ec);
}

}  // namespace libquant
