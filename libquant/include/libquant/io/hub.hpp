#pragma once
// Models from the Hugging Face Hub: `org/name[@revision][:QUANT]` resolved
// through the hub's API, the files a job needs downloaded (in parallel,
// resumable, hash-verified) into the huggingface_hub cache layout, so that
// transformers, huggingface-cli and libquant share one copy of each file.
//
// The library reads no environment variable: the caller fills HubOptions
// (the CLI maps HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE to it).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {
class ProgressSink;
}

namespace libquant::io {

struct HubModelRef {
  std::string repo_id;            // "org/name"
  std::string revision = "main";  // branch, tag, or 40-hex commit
  std::string quant;              // ":Q4_K_M": picks that GGUF file of a GGUF-only repo
};

// `org/name`, `org/name@rev`, `org/name:Q4_K_M`, `org/name@rev:Q4_K_M`, with the
// hub's rules for names (letters, digits, `-`, `_`, `.`; no `--` or `..`, at most
// 96 characters). nullopt when the text is not shaped like a hub id (a file
// name such as `x/model.gguf` is not one).
LIBQUANT_API std::optional<HubModelRef> parse_hub_model_ref(std::string_view text);

struct HubOptions {
  std::string endpoint = "https://huggingface.co";
  std::string token;                 // sent only to the endpoint's origin; "" for anonymous access
  std::filesystem::path cache_dir;   // the huggingface_hub cache ("~/.cache/huggingface/hub")
  bool offline = false;              // the cache only; no network at all
  std::string proxy;                 // "" : libcurl's defaults (http_proxy, https_proxy, no_proxy)
  int max_attempts = 5;              // per request, for 429, 5xx and cut connections
  double first_retry_delay_s = 0.5;  // doubled after each failed attempt (or the server's Retry-After)
  int parallel_downloads = 4;
  long connect_timeout_s = 10;
  long stall_timeout_s = 30;         // a transfer with no byte for this long is cut and retried
  ProgressSink* progress = nullptr;  // bytes downloaded ("B" units); nullptr: silent
};

struct HubFileEntry {
  std::string path;  // relative to the repository root
  uint64_t size = 0;
  std::string sha256;   // LFS files: the content's SHA-256 (also the blob's name in the cache)
  std::string blob_id;  // the git blob id (SHA-1 of "blob <size>\0" + content): name of a non-LFS blob
  const std::string& etag() const noexcept { return sha256.empty() ? blob_id : sha256; }
};

struct HubRepoListing {
  std::string commit;  // 40 hex digits
  std::vector<HubFileEntry> files;
};

struct HubFetchResult {
  // The snapshot directory (an HF checkpoint) or the chosen GGUF file in it.
  std::filesystem::path path;
  std::string commit;
  std::vector<std::string> files;  // what the job uses, relative to the snapshot
  uint64_t downloaded_bytes = 0;   // fetched over the network by this call
  uint64_t cached_bytes = 0;       // found in the cache
  bool from_cache_only = false;    // offline, or the hub unreachable and the cache complete
};

// The hub API's model answer (`/api/models/{repo}/revision/{rev}?blobs=true`):
// commit and files, every name checked to be a safe relative path and every
// hash to be hex. Throws Error(ValidationFailed) otherwise.
LIBQUANT_API HubRepoListing parse_hub_repo_listing(std::string_view json);

// The repository's commit and file list at a revision (one API request).
// Errors: 401/403 → AuthenticationRequired (the hub's message), 404 →
// ModelNotFound, network failure after retries → General naming the URL.
LIBQUANT_API HubRepoListing hub_repo_listing(const HubModelRef& ref, const HubOptions& options);

// Everything a job needs to read the model: config, tokenizer and generation
// files plus the safetensors weights (the shards the index names), or one GGUF
// file (`gguf_file`, else the one matching ref.quant, else the only one).
LIBQUANT_API HubFetchResult fetch_hub_model(const HubModelRef& ref, const HubOptions& options,
                                            const std::string& gguf_file = {});

// What `info` needs and no more: the small files as above (through the cache),
// and for each weight file only its header, fetched with HTTP ranges and laid
// into a sparse file of the full size in `scratch_dir` (which the caller owns
// and removes). The result's path points into `scratch_dir`. In offline mode
// it is fetch_hub_model (the cache has whole files or nothing).
LIBQUANT_API HubFetchResult fetch_hub_model_headers(const HubModelRef& ref, const HubOptions& options,
                                                    const std::string& gguf_file,
                                                    const std::filesystem::path& scratch_dir);

}  // namespace libquant::io
