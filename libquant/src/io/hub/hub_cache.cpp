#include "hub_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/error.hpp"

namespace libquant::io::hub {

namespace fs = std::filesystem;

namespace {
// A name next to `target` no other process or thread uses, for write-then-rename.
fs::path unique_temp(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.string() + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

bool is_commit_hash(std::string_view s) noexcept { return s.size() == 40 && is_lower_hex(s); }

void check_repo_path(std::string_view path, std::string_view what) {
  bool ok = !path.empty() && path.size() <= 1024 && path.front() != '/';
  for (char c : path) ok = ok && c != '\\' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  size_t start = 0;
  while (ok && start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view seg = path.substr(start, end - start);
    ok = !seg.empty() && seg != "." && seg != "..";
    start = end + 1;
  }
  if (!ok)
    throw Error(ErrorCode::ValidationFailed,
                "the hub named an unsafe " + std::string(what) + ": '" + std::string(path) + "'",
                "The endpoint is not a Hugging Face hub or sent a crafted answer; check HF_ENDPOINT");
}

void check_etag(std::string_view etag) {
  if ((etag.size() != 40 && etag.size() != 64) || !is_lower_hex(etag))
    throw Error(ErrorCode::ValidationFailed,
                "the hub sent an invalid file hash '" + std::string(etag.substr(0, 80)) + "'",
                "The endpoint is not a Hugging Face hub or sent a crafted answer; check HF_ENDPOINT");
}

HubCache::HubCache(fs::path cache_dir, std::string_view repo_id) : cache_dir_(std::move(cache_dir)) {
  std::string folder = "models--";
  for (char c : repo_id) {
    if (c == '/')
      folder += "--";
    else
      folder += c;
  }
  repo_dir_ = cache_dir_ / folder;
  locks_dir_ = cache_dir_ / ".locks" / folder;
}

fs::path HubCache::blob(std::string_view etag) const { return repo_dir_ / "blobs" / std::string(etag); }
fs::path HubCache::incomplete(std::string_view etag) const {
  return repo_dir_ / "blobs" / (std::string(etag) + ".incomplete");
}
fs::path HubCache::lock_file(std::string_view etag) const { return locks_dir_ / (std::string(etag) + ".lock"); }
fs::path HubCache::snapshot_dir(std::string_view commit) const { return repo_dir_ / "snapshots" / std::string(commit); }
fs::path HubCache::snapshot_file(std::string_view commit, std::string_view path) const {
  return snapshot_dir(commit) / fs::path(std::string(path));
}

std::optional<std::string> HubCache::commit_of(std::string_view revision) const {
  if (is_commit_hash(revision) && fs::is_directory(snapshot_dir(revision))) return std::string(revision);
  check_repo_path(revision, "revision");
  std::ifstream in(repo_dir_ / "refs" / std::string(revision));
  std::string commit;
  if (!in || !std::getline(in, commit)) return std::nullopt;
  while (!commit.empty() && (commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void HubCache::write_ref(std::string_view revision, std::string_view commit) const {
  if (revision == commit) return;
  check_repo_path(revision, "revision");
  const fs::path ref = repo_dir_ / "refs" / std::string(revision);
  fs::create_directories(ref.parent_path());
  AtomicFile out(ref);  // a reader never sees a half-written commit hash
  out.write(commit.data(), commit.size());
  out.commit();
}

void HubCache::link(std::string_view commit, std::string_view path, std::string_view etag) const {
  const fs::path target = snapshot_file(commit, path);
  fs::create_directories(target.parent_path());
  const fs::path relative = blob(etag).lexically_relative(target.parent_path());
  // Made aside and renamed over the target: replaces a stale link, and two
  // processes linking the same file at once both succeed.
  const fs::path tmp = unique_temp(target);
  fs::create_symlink(relative, tmp);
  fs::rename(tmp, target);
}

std::vector<std::string> HubCache::snapshot_files(std::string_view commit) const {
  std::vector<std::string> files;
  const fs::path dir = snapshot_dir(commit);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (fs::is_regular_file(it->path(), ec)) files.push_back(it->path().lexically_relative(dir).generic_string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace libquant::io::hub
