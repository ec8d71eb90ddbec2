#pragma once
// Files of one commit into the cache: already linked → nothing; blob present
// → link; else the blob is downloaded to blobs/<etag>.incomplete (resumed with
// an HTTP range when a partial exists), its size and hash checked, renamed into
// place and linked. Several files at a time; one lock file per blob so that two
// processes never write the same partial.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "hub_cache.hpp"
#include "hub_session.hpp"

namespace libquant::io::hub {

class Downloader {
 public:
  Downloader(const HubSession& session, const HubCache& cache, std::string repo_id, std::string commit);
  // Downloads what is missing, `parallel` files at a time; the first error is
  // rethrown after the others stopped (their partials are kept for a resume).
  void fetch(const std::vector<HubFileEntry>& files);
  uint64_t downloaded_bytes() const noexcept { return downloaded_; }
  uint64_t cached_bytes() const noexcept { return cached_; }

 private:
  void fetch_one(const HubFileEntry& f);
  void download_blob(const HubFileEntry& f);
  void add_progress(uint64_t n, const std::string& label);

  const HubSession& session_;
  const HubCache& cache_;
  std::string repo_id_, commit_;
  std::atomic<uint64_t> downloaded_{0}, cached_{0};
  std::atomic<bool> stop_{false};
  std::mutex progress_mutex_;
  uint64_t progress_done_ = 0;
};

}  // namespace libquant::io::hub
