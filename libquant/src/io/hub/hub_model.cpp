// The jobs of io/hub.hpp: resolve a repository reference, pick the files a
// model job needs, and bring them into the cache (or, for `info`, only their
// headers into a scratch directory).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "hub_cache.hpp"
#include "hub_download.hpp"
#include "hub_files.hpp"
#include "hub_session.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/core/mapped_file.hpp"
#include "libquant/io/hub.hpp"

namespace libquant::io {

namespace fs = std::filesystem;
using hub::HubCache;
using hub::HubSession;

namespace {

bool valid_name_part(std::string_view s) {
  if (s.empty() || s.size() > 96 || s.front() == '-' || s.front() == '.' || s.back() == '-' || s.back() == '.')
    return false;
  if (s.find("--") != std::string_view::npos || s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void check_cache_dir(const HubOptions& o) {
  if (o.cache_dir.empty())
    throw Error(ErrorCode::InvalidArgument, "no hub cache directory was given",
                "Set HubOptions::cache_dir (HF_HUB_CACHE)");
}

std::string read_snapshot_file(const HubCache& cache, const std::string& commit, const std::string& path) {
  return read_whole_file(cache.snapshot_file(commit, path), ErrorCode::ValidationFailed, path, 256u << 20);
}

// Offline (or the hub unreachable): the snapshot the revision points to, if it holds the files.
HubFetchResult from_cache(const HubModelRef& ref, const HubCache& cache, const std::string& gguf_file,
                          const std::string& why) {
  const auto commit = cache.commit_of(ref.revision);
  if (!commit)
    throw Error(ErrorCode::ModelNotFound,
                ref.repo_id + "@" + ref.revision + " is not in the hub cache " +
                    cache.repo_dir().parent_path().string() + " (" + why + ")",
                "Download it once with network access (unset HF_HUB_OFFLINE), or check HF_HUB_CACHE / HF_HOME");
  const std::vector<std::string> present = cache.snapshot_files(*commit);
  const hub::ModelFiles files = hub::select_model_files(
      present, ref, gguf_file, [&](const std::string& p) { return read_snapshot_file(cache, *commit, p); });
  HubFetchResult out;
  out.commit = *commit;
  out.from_cache_only = true;
  for (const auto* list : {&files.small, &files.weights})
    for (const auto& f : *list) {
      if (!std::binary_search(present.begin(), present.end(), f))
        throw Error(ErrorCode::ModelNotFound,
                    ref.repo_id + ": '" + f + "' is not in the cached snapshot " + *commit + " (" + why + ")",
                    "Download the model once with network access (unset HF_HUB_OFFLINE)");
      std::error_code ec;
      out.cached_bytes += fs::file_size(cache.snapshot_file(*commit, f), ec);
      out.files.push_back(f);
    }
  out.path = files.gguf ? cache.snapshot_file(*commit, files.weights.front()) : cache.snapshot_dir(*commit);
  return out;
}

struct Resolved {
  HubRepoListing listing;
  std::map<std::string, const HubFileEntry*> by_path;
  std::vector<std::string> names;
};

Resolved resolve(const HubSession& session, const HubModelRef& ref) {
  Resolved r;
  r.listing =
      hub::parse_repo_listing(session.get_text(session.api_url(ref), ref.repo_id + "@" + ref.revision, 64u << 20));
  for (const auto& f : r.listing.files) {
    r.by_path[f.path] = &f;
    r.names.push_back(f.path);
  }
  std::sort(r.names.begin(), r.names.end());
  return r;
}

std::vector<HubFileEntry> entries(const Resolved& r, const std::vector<std::string>& paths) {
  std::vector<HubFileEntry> out;
  out.reserve(paths.size());
  for (const auto& p : paths) out.push_back(*r.by_path.at(p));
  return out;
}

// Online resolution with the cache as a fallback when the hub cannot be reached.
template <class Online>
HubFetchResult online_or_cache(const HubModelRef& ref, const HubOptions& options, const std::string& gguf_file,
                               Online online) {
  check_cache_dir(options);
  const HubCache cache(options.cache_dir, ref.repo_id);
  if (options.offline) return from_cache(ref, cache, gguf_file, "offline mode");
  const HubSession session(options);
  Resolved resolved;
  try {
    resolved = resolve(session, ref);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::General || !cache.commit_of(ref.revision)) throw;
    log_warning(std::string(e.what()) + "; using the cached snapshot");
    return from_cache(ref, cache, gguf_file, "the hub is unreachable");
  }
  cache.write_ref(ref.revision, resolved.listing.commit);
  hub::Downloader downloader(session, cache, ref.repo_id, resolved.listing.commit);
  const hub::ModelFiles files = hub::select_model_files(resolved.names, ref, gguf_file, [&](const std::string& p) {
    downloader.fetch(entries(resolved, {p}));
    return read_snapshot_file(cache, resolved.listing.commit, p);
  });
  downloader.fetch(entries(resolved, files.small));
  HubFetchResult out = online(session, cache, resolved, files, downloader);
  out.commit = resolved.listing.commit;
  out.downloaded_bytes += downloader.downloaded_bytes();
  out.cached_bytes += downloader.cached_bytes();
  for (const auto* list : {&files.small, &files.weights}) out.files.insert(out.files.end(), list->begin(), list->end());
  return out;
}

// The first bytes of a weight file up to the end of its header, as a sparse
// file of the full size: every reader that validates sizes against the file
// sees the real size, and nothing but the header is ever transferred.
void write_sparse(const fs::path& path, const std::string& head, uint64_t size) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    if (!out.flush()) throw Error(ErrorCode::General, "cannot write " + path.string(), "Check the scratch directory");
  }
  fs::resize_file(path, size);
}

uint64_t fetch_header(const HubSession& session, const std::string& repo_id, const std::string& commit,
                      const HubFileEntry& f, const fs::path& dest) {
  const std::string url = session.file_url(repo_id, commit, f.path);
  if (f.path.ends_with(".safetensors")) {
    check(f.size >= 8, ErrorCode::ValidationFailed, f.path + " is shorter than a safetensors header");
    const std::string len_bytes = session.get_range(url, f.path, 0, 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(len_bytes[static_cast<size_t>(i)]);
    check(n <= std::min<uint64_t>(100u << 20, f.size - 8), ErrorCode::ValidationFailed,
          f.path + ": the safetensors header length " + std::to_string(n) + " is impossible");
    write_sparse(dest, len_bytes + session.get_range(url, f.path, 8, n), f.size);
    return 8 + n;
  }
  // GGUF: the header's length is only known by parsing it; grow the prefix until
  // the parse ends inside it (a parse that read past the prefix saw zeros).
  std::string head;
  // Start small for small files (1/256 of the file, at least 64 KiB, at most 1 MiB).
  const uint64_t first = std::clamp<uint64_t>(f.size / 256, 64u << 10, 1u << 20);
  for (uint64_t want = std::min<uint64_t>(f.size, first);; want = std::min<uint64_t>(f.size, want * 2)) {
    head += session.get_range(url, f.path, head.size(), want - head.size());
    write_sparse(dest, head, f.size);
    bool complete = false;
    try {
      const MappedFile map(dest);
      complete = parse_gguf(map.bytes()).data_offset <= head.size();
    } catch (const Error&) {
      if (want == f.size) throw;
    }
    if (complete || want == f.size) return head.size();
    check(want < (512ull << 20), ErrorCode::ValidationFailed, f.path + ": a GGUF header larger than 512 MiB");
  }
}

}  // namespace

std::optional<HubModelRef> parse_hub_model_ref(std::string_view text) {
  HubModelRef ref;
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  size_t name_end = text.find_first_of("@:", slash + 1);
  if (name_end == std::string_view::npos) name_end = text.size();
  const std::string_view org = text.substr(0, slash), name = text.substr(slash + 1, name_end - slash - 1);
  if (!valid_name_part(org) || !valid_name_part(name)) return std::nullopt;
  for (std::string_view ext : {".gguf", ".safetensors", ".littlebit", ".json", ".bin"})
    if (name.ends_with(ext)) return std::nullopt;  // a file path, not a repository
  ref.repo_id = std::string(text.substr(0, name_end));
  std::string_view rest = text.substr(name_end);
  if (rest.starts_with("@")) {
    const size_t colon = rest.find(':');
    ref.revision = std::string(rest.substr(1, colon == std::string_view::npos ? std::string_view::npos : colon - 1));
    if (ref.revision.empty()) return std::nullopt;
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (rest.starts_with(":")) {
    ref.quant = std::string(rest.substr(1));
    if (ref.quant.empty() || !std::all_of(ref.quant.begin(), ref.quant.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        }))
      return std::nullopt;
  } else if (!rest.empty()) {
    return std::nullopt;
  }
  return ref;
}

HubRepoListing parse_hub_repo_listing(std::string_view json) { return hub::parse_repo_listing(json); }

HubRepoListing hub_repo_listing(const HubModelRef& ref, const HubOptions& options) {
  const HubSession session(options);
  return resolve(session, ref).listing;
}

HubFetchResult fetch_hub_model(const HubModelRef& ref, const HubOptions& options, const std::string& gguf_file) {
  return online_or_cache(ref, options, gguf_file,
                         [&](const HubSession&, const HubCache& cache, const Resolved& r, const hub::ModelFiles& files,
                             hub::Downloader& downloader) {
                           downloader.fetch(entries(r, files.weights));
                           HubFetchResult out;
                           out.path = files.gguf ? cache.snapshot_file(r.listing.commit, files.weights.front())
                                                 : cache.snapshot_dir(r.listing.commit);
                           return out;
                         });
}

HubFetchResult fetch_hub_model_headers(const HubModelRef& ref, const HubOptions& options, const std::string& gguf_file,
                                       const fs::path& scratch_dir) {
  return online_or_cache(ref, options, gguf_file,
                         [&](const HubSession& session, const HubCache& cache, const Resolved& r,
                             const hub::ModelFiles& files, hub::Downloader&) {
                           fs::create_directories(scratch_dir);
                           for (const auto& f : files.small) {
                             const fs::path dest = scratch_dir / fs::path(f);
                             fs::create_directories(dest.parent_path());
                             fs::copy_file(cache.snapshot_file(r.listing.commit, f), dest,
                                           fs::copy_options::overwrite_existing);
                           }
                           HubFetchResult out;
                           for (const auto& w : files.weights) {
                             const HubFileEntry& e = *r.by_path.at(w);
                             std::error_code ec;
                             const fs::path cached = cache.snapshot_file(r.listing.commit, w);
                             const fs::path dest = scratch_dir / fs::path(w);
                             fs::create_directories(dest.parent_path());
                             if (fs::exists(cached, ec)) {
                               fs::create_symlink(fs::absolute(cached), dest);  // already whole in the cache
                               out.cached_bytes += e.size;
                             } else {
                               out.downloaded_bytes += fetch_header(session, ref.repo_id, r.listing.commit, e, dest);
                             }
                           }
                           out.path = files.gguf ? scratch_dir / fs::path(files.weights.front()) : scratch_dir;
                           return out;
                         });
}

}  // namespace libquant::io
