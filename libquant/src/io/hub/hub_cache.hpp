#pragma once
// The huggingface_hub cache layout, exactly: <cache>/models--org--name/ with
// blobs/<etag> (content), refs/<revision> (a commit hash), snapshots/<commit>/
// <path> (relative symlinks into blobs/), .no_exist/; in-flight downloads are
// blobs/<etag>.incomplete and locks live in <cache>/.locks/models--org--name/.
// Every name that comes from the network is validated before it becomes a path.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace libquant::io::hub {

bool is_commit_hash(std::string_view s) noexcept;
// A relative repository path with no empty, "." or ".." segment, no backslash,
// no control character; throws Error(ValidationFailed) naming `what` otherwise.
void check_repo_path(std::string_view path, std::string_view what);
// A blob name: 40 or 64 lower-case hex digits; throws Error(ValidationFailed).
void check_etag(std::string_view etag);

class HubCache {
 public:
  HubCache(std::filesystem::path cache_dir, std::string_view repo_id);

  const std::filesystem::path& repo_dir() const noexcept { return repo_dir_; }
  std::filesystem::path blob(std::string_view etag) const;
  std::filesystem::path incomplete(std::string_view etag) const;
  std::filesystem::path lock_file(std::string_view etag) const;
  std::filesystem::path snapshot_dir(std::string_view commit) const;
  std::filesystem::path snapshot_file(std::string_view commit, std::string_view path) const;

  // The commit a revision points to: the revision itself when it is a commit
  // hash with a snapshot, else refs/<revision>.
  std::optional<std::string> commit_of(std::string_view revision) const;
  // refs/<revision> = commit, written atomically (not for a commit hash).
  void write_ref(std::string_view revision, std::string_view commit) const;
  // snapshots/<commit>/<path> -> ../../blobs/<etag> (relative, replacing a stale link).
  void link(std::string_view commit, std::string_view path, std::string_view etag) const;
  // Files present in a snapshot (links whose blob exists), relative, sorted.
  std::vector<std::string> snapshot_files(std::string_view commit) const;

 private:
  std::filesystem::path cache_dir_, repo_dir_, locks_dir_;
};

}  // namespace libquant::io::hub
