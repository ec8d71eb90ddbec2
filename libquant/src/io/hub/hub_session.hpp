#pragma once
// Requests to one hub endpoint: credentials only for the endpoint's own
// origin, redirects followed hop by hop (so a CDN never sees the token),
// 429 / 5xx / cut connections retried with back-off, and HTTP failures turned
// into libquant errors with the hub's own message.
#include <functional>
#include <string>
#include <string_view>

#include "http.hpp"
#include "libquant/io/hub.hpp"

namespace libquant::io::hub {

class HubSession {
 public:
  explicit HubSession(const HubOptions& options);
  const HubOptions& options() const noexcept { return options_; }
  const std::string& endpoint() const noexcept { return endpoint_; }

  // `url` on the endpoint (or absolute elsewhere). Returns the final 2xx (or
  // 416) response; the body went to `sink`. `what` names the object in errors.
  // `prepare` runs before every attempt (a resumed download moves its range).
  HttpResponse request(HttpRequest req, std::string_view what, const BodySink& sink,
                       const std::function<void(HttpRequest&)>& prepare = {}) const;
  // A small text body (API answers, headers of files), at most `cap` bytes.
  std::string get_text(const std::string& url, std::string_view what, size_t cap) const;
  // Bytes [offset, offset + length) of a file.
  std::string get_range(const std::string& url, std::string_view what, uint64_t offset, uint64_t length) const;

  std::string api_url(const HubModelRef& ref) const;
  std::string file_url(std::string_view repo_id, std::string_view commit, std::string_view path) const;

 private:
  HttpResponse follow_redirects(HttpRequest req, const BodySink& sink) const;
  [[noreturn]] void fail(const HttpResponse& r, const std::string& url, std::string_view what) const;

  HubOptions options_;
  std::string endpoint_, origin_;
  HttpSettings http_;
};

// The API's model answer ({"sha", "siblings": [{"rfilename", "size", "blobId", "lfs": {"sha256", "size"}}]}),
// every name and hash validated.
HubRepoListing parse_repo_listing(std::string_view json);

}  // namespace libquant::io::hub
