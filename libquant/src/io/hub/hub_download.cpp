#include "hub_download.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include "core/digest.hpp"
#include "core/unique_fd.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/progress.hpp"

namespace libquant::io::hub {

namespace fs = std::filesystem;

namespace {

// SHA-256 of the content (LFS files) or git's blob SHA-1 (the rest): whatever
// the blob is named by, so that the name is checked against what was received.
class ContentHash {
 public:
  ContentHash(bool lfs, uint64_t size) : lfs_(lfs), size_(size), digest_(lfs ? DigestKind::Sha256 : DigestKind::Sha1) {
    reset();
  }
  void reset() {
    digest_.reset();
    if (!lfs_) {
      const std::string prefix = "blob " + std::to_string(size_);
      digest_.update(prefix.data(), prefix.size() + 1);  // with the terminating NUL, as git hashes it
    }
  }
  void update(const void* data, size_t n) { digest_.update(data, n); }
  std::string hex() { return digest_.hex(); }

 private:
  bool lfs_;
  uint64_t size_;
  Digest digest_;
};

std::string errno_text() { return system_error_text(errno); }

[[noreturn]] void write_failed(const fs::path& p, const std::string& why) {
  throw Error(ErrorCode::General, "cannot write " + p.string() + ": " + why,
              "Free disk space (or fix permissions) and run again: the partial download is kept and resumes");
}

}  // namespace

Downloader::Downloader(const HubSession& session, const HubCache& cache, std::string repo_id, std::string commit)
    : session_(session), cache_(cache), repo_id_(std::move(repo_id)), commit_(std::move(commit)) {}

void Downloader::add_progress(uint64_t n, const std::string& label) {
  downloaded_ += n;
  ProgressSink* p = session_.options().progress;
  if (!p) return;
  std::lock_guard lock(progress_mutex_);
  progress_done_ += n;
  p->update(progress_done_, label);
}

void Downloader::fetch(const std::vector<HubFileEntry>& files) {
  std::vector<const HubFileEntry*> missing;
  uint64_t missing_bytes = 0;
  for (const auto& f : files) {
    std::error_code ec;
    if (fs::exists(cache_.snapshot_file(commit_, f.path), ec)) {
      cached_ += f.size;
      continue;
    }
    missing.push_back(&f);
    missing_bytes += f.size;
  }
  if (missing.empty()) return;
  fs::create_directories(cache_.repo_dir() / "blobs");
  fs::create_directories(cache_.lock_file("x").parent_path());
  // Refuse up front rather than fill the disk: partial blobs count as already there.
  uint64_t partial_bytes = 0;
  for (const auto* f : missing) {
    std::error_code ec;
    const auto n = fs::file_size(cache_.incomplete(f->etag()), ec);
    if (!ec) partial_bytes += std::min<uint64_t>(n, f->size);
  }
  const fs::space_info space = fs::space(cache_.repo_dir());
  if (missing_bytes - partial_bytes > space.available)
    throw Error(ErrorCode::General,
                "the download needs " + std::to_string((missing_bytes - partial_bytes) >> 20) + " MiB but " +
                    cache_.repo_dir().string() + " has " + std::to_string(space.available >> 20) + " MiB free",
                "Free disk space, or point HF_HUB_CACHE at a larger disk");

  ProgressSink* progress = session_.options().progress;
  progress_done_ = 0;
  if (progress) progress->begin("download " + repo_id_, missing_bytes, "B");
  std::atomic<size_t> next{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t i = next++; i < missing.size() && !stop_; i = next++) {
      try {
        fetch_one(*missing[i]);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        stop_ = true;
      }
    }
  };
  const size_t n_threads = std::min<size_t>(missing.size(), std::max(1, session_.options().parallel_downloads));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (progress) progress->end();
  if (first_error) std::rethrow_exception(first_error);
}

void Downloader::fetch_one(const HubFileEntry& f) {
  const std::string& etag = f.etag();
  if (etag.empty())
    throw Error(ErrorCode::ValidationFailed, "the hub gave no hash for '" + f.path + "'",
                "The endpoint's API answer lacks blobId / lfs.sha256; check HF_ENDPOINT");
  check_etag(etag);
  const fs::path blob = cache_.blob(etag);
  std::error_code ec;
  if (fs::file_size(blob, ec) != f.size || ec) {
    // One writer per blob, across threads and processes.
    UniqueFd lock(::open(cache_.lock_file(etag).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (lock.get() < 0 || ::flock(lock.get(), LOCK_EX) != 0) write_failed(cache_.lock_file(etag), errno_text());
    if (fs::file_size(blob, ec) != f.size || ec)
      download_blob(f);
    else
      cached_ += f.size;
  } else {
    cached_ += f.size;
  }
  cache_.link(commit_, f.path, etag);
}

void Downloader::download_blob(const HubFileEntry& f) {
  const std::string& etag = f.etag();
  const bool lfs = !f.sha256.empty();
  const fs::path partial = cache_.incomplete(etag);
  UniqueFd fd(::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) write_failed(partial, errno_text());
  ContentHash hash(lfs, f.size);
  uint64_t written = 0;
  {
    // Resume: hash what an earlier run kept (a partial longer than the file is junk).
    const off_t existing = ::lseek(fd.get(), 0, SEEK_END);
    if (existing < 0 || static_cast<uint64_t>(existing) > f.size) {
      if (::ftruncate(fd.get(), 0) != 0) write_failed(partial, errno_text());
    } else {
      std::vector<char> buf(1 << 20);
      for (uint64_t off = 0; off < static_cast<uint64_t>(existing);) {
        const ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(off));
        if (n <= 0) break;
        hash.update(buf.data(), static_cast<size_t>(n));
        off += static_cast<uint64_t>(n);
        written = off;
      }
      if (written) add_progress(0, f.path);
    }
  }
  if (::lseek(fd.get(), static_cast<off_t>(written), SEEK_SET) < 0) write_failed(partial, errno_text());
  const auto restart = [&] {
    if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0) return false;
    written = 0;
    hash.reset();
    return true;
  };
  bool first_chunk = true;  // of the current attempt's response
  const BodySink sink = [&](long status, std::string_view chunk) -> std::string {
    if (stop_) return "stopped: another download failed";
    // A 200 to a ranged request is the whole file again: start over.
    if (std::exchange(first_chunk, false) && status == 200 && written > 0 && !restart()) return errno_text();
    if (written + chunk.size() > f.size)
      return "the hub sent more than the " + std::to_string(f.size) + " bytes it listed";
    for (size_t off = 0; off < chunk.size();) {
      const ssize_t n = ::write(fd.get(), chunk.data() + off, chunk.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return errno_text();
      hash.update(chunk.data() + off, static_cast<size_t>(n));
      off += static_cast<size_t>(n);
      written += static_cast<uint64_t>(n);
    }
    add_progress(chunk.size(), f.path);
    return {};
  };
  HttpRequest req;
  req.url = session_.file_url(repo_id_, commit_, f.path);
  const auto prepare = [&](HttpRequest& r) {
    first_chunk = true;
    r.range_from.reset();
    if (written > 0 && written < f.size) r.range_from = written;
  };
  if (written < f.size || f.size == 0) {
    try {
      for (int round = 0; round < 2; ++round) {
        const HttpResponse r = session_.request(req, f.path, sink, prepare);
        if (r.status != 416 || written == f.size) break;
        if (!restart()) write_failed(partial, errno_text());  // 416 for a partial the server disowns: start over
      }
    } catch (const SinkError& e) {
      if (std::string_view(e.what()).starts_with("the hub sent more")) {
        ::ftruncate(fd.get(), 0);
        throw Error(ErrorCode::ValidationFailed, f.path + ": " + e.what(),
                    "The hub's listing and file disagree; try again later");
      }
      write_failed(partial, e.what());
    }
  }
  const std::string got = hash.hex();
  const std::string& expected = lfs ? f.sha256 : f.blob_id;
  if (written != f.size || got != expected) {
    std::error_code ec;
    fs::remove(partial, ec);  // never kept: a resume would only extend the damage
    throw Error(ErrorCode::ValidationFailed,
                f.path + ": the download does not match the hub's " + (lfs ? "SHA-256" : "git blob id") +
                    " (expected " + expected + ", got " + got + ", " + std::to_string(written) + " of " +
                    std::to_string(f.size) + " bytes)",
                "The file was damaged in transit or changed on the hub; run again to download it afresh");
  }
  if (::fsync(fd.get()) != 0) write_failed(partial, errno_text());
  fs::rename(partial, cache_.blob(etag));
}

}  // namespace libquant::io::hub
