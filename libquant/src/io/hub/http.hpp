#pragma once
// A small blocking HTTP client on libcurl for the hub: one request per call,
// redirects returned to the caller (who decides where credentials may go),
// the body streamed to a sink on success and kept (capped) on failure.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace libquant::io::hub {

struct HttpSettings {
  std::string user_agent;
  std::string proxy;  // empty: libcurl's defaults (the usual *_proxy variables)
  long connect_timeout_s = 10;
  // A transfer slower than 1 byte/s for this long counts as a cut connection.
  long stall_timeout_s = 30;
};

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;    // "Name: value"
  std::optional<uint64_t> range_from;  // "Range: bytes=N-"
  std::optional<uint64_t> range_to;    // inclusive end, with range_from
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error_body;                      // first 64 KiB of a non-2xx body
  std::string redirect_url;                    // absolute Location of a 3xx, else ""
  std::string header(std::string_view lower_name) const;
};

// The connection failed or was cut (DNS, refused, reset, timeout, short body):
// worth a retry, unlike an HTTP status.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The sink refused a chunk (a disk write failed): `what()` says why. Not retried.
class SinkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Receives the body of a 2xx response in chunks, with the response's status
// (200 or 206: a server may ignore a range); returns "" to go on or a reason
// to abort the transfer.
using BodySink = std::function<std::string(long status, std::string_view chunk)>;

// One request, no redirect following. Throws TransportError or SinkError.
HttpResponse http_perform(const HttpRequest& req, const HttpSettings& settings, const BodySink& sink);

// scheme://host[:port] of a URL, lower-cased, for same-origin checks.
std::string url_origin(std::string_view url);
// Percent-encoding of one path segment or query value.
std::string url_escape(std::string_view text);

}  // namespace libquant::io::hub
