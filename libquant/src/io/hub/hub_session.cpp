#include "hub_session.hpp"

#include <simdjson.h>

#include <chrono>
#include <thread>

#include "hub_cache.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/version.hpp"

namespace libquant::io::hub {

namespace {

bool retryable(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// The hub's explanation of a failure: X-Error-Message, else {"error": "..."}.
std::string hub_message(const HttpResponse& r) {
  std::string msg = r.header("x-error-message");
  if (!msg.empty()) return msg;
  simdjson::dom::parser parser;
  simdjson::padded_string body(r.error_body);
  simdjson::dom::element root;
  std::string_view text;
  if (!parser.parse(body).get(root) && !root["error"].get_string().get(text)) return std::string(text);
  return {};
}

double retry_after_s(const HttpResponse& r) {
  const std::string v = r.header("retry-after");
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::min(60.0, std::stod(v));
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string escape_path(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    if (start) out += '/';
    out += url_escape(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

HubSession::HubSession(const HubOptions& options)
    : options_(options), endpoint_(strip_slash(options.endpoint)), origin_(url_origin(endpoint_)) {
  if (origin_.empty() || !(origin_.starts_with("http://") || origin_.starts_with("https://")))
    throw Error(ErrorCode::InvalidArgument, "the hub endpoint '" + endpoint_ + "' is not an http(s) URL",
                "Set HF_ENDPOINT to a URL such as https://huggingface.co");
  http_.user_agent = std::string("libquant/") + version_string();
  http_.proxy = options.proxy;
  http_.connect_timeout_s = options.connect_timeout_s;
  http_.stall_timeout_s = options.stall_timeout_s;
}

std::string HubSession::api_url(const HubModelRef& ref) const {
  return endpoint_ + "/api/models/" + ref.repo_id + "/revision/" + url_escape(ref.revision) + "?blobs=true";
}

std::string HubSession::file_url(std::string_view repo_id, std::string_view commit, std::string_view path) const {
  return endpoint_ + "/" + std::string(repo_id) + "/resolve/" + std::string(commit) + "/" + escape_path(path);
}

HttpResponse HubSession::follow_redirects(HttpRequest req, const BodySink& sink) const {
  const std::vector<std::string> base_headers = req.headers;
  for (int hop = 0; hop < 10; ++hop) {
    req.headers = base_headers;
    // The token is for the hub only: a redirect to a CDN or another host goes without it.
    if (!options_.token.empty() && url_origin(req.url) == origin_)
      req.headers.push_back("Authorization: Bearer " + options_.token);
    HttpResponse r = http_perform(req, http_, sink);
    if (r.status >= 300 && r.status < 400 && !r.redirect_url.empty()) {
      req.url = r.redirect_url;
      continue;
    }
    return r;
  }
  throw Error(ErrorCode::General, "too many redirects from " + req.url, "Check HF_ENDPOINT and any proxy in between");
}

HttpResponse HubSession::request(HttpRequest req, std::string_view what, const BodySink& sink,
                                 const std::function<void(HttpRequest&)>& prepare) const {
  const std::string url = req.url;
  double delay = options_.first_retry_delay_s;
  const int attempts = std::max(1, options_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    std::string why;
    if (prepare) prepare(req);
    try {
      HttpResponse r = follow_redirects(req, sink);
      if ((r.status >= 200 && r.status < 300) || r.status == 416) return r;
      if (!retryable(r.status) || attempt == attempts) fail(r, url, what);
      why = "HTTP " + std::to_string(r.status);
      delay = std::max(delay, retry_after_s(r));
    } catch (const TransportError& e) {
      if (attempt == attempts)
        throw Error(
            ErrorCode::General, "cannot download " + std::string(what) + " from " + url + ": " + e.what(),
            "Check the network connection (and proxy variables); an interrupted download resumes on the next run");
      why = e.what();
    }
    log_warning(std::string(what) + ": " + why + "; retrying in " + std::to_string(delay).substr(0, 4) +
                " s (attempt " + std::to_string(attempt + 1) + " of " + std::to_string(attempts) + ")");
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    delay *= 2;
  }
}

void HubSession::fail(const HttpResponse& r, const std::string& url, std::string_view what) const {
  const std::string msg = hub_message(r);
  const std::string code = r.header("x-error-code");
  const std::string said = msg.empty() ? std::string() : ": " + msg;
  const std::string name(what);
  // The hub answers 401 RepoNotFound alike for a missing repository and one the caller may not see.
  if (r.status == 401 && code == "RepoNotFound" && options_.token.empty())
    throw Error(ErrorCode::AuthenticationRequired, name + " was not found, or it is private or gated" + said,
                "Set HF_TOKEN (or run `huggingface-cli login`) if you have access; check the name otherwise");
  if (r.status == 401 && code == "RepoNotFound")
    throw Error(ErrorCode::ModelNotFound,
                name + " was not found on " + endpoint_ + ", or your token cannot see it" + said,
                "Check the repository name (org/name), and that the token in HF_TOKEN has access to it");
  if (r.status == 401 || r.status == 403)
    throw Error(ErrorCode::AuthenticationRequired,
                name + " needs authorization (HTTP " + std::to_string(r.status) + ")" + said,
                options_.token.empty()
                    ? "Set HF_TOKEN to a token with access (accept the model's terms on its page first)"
                    : "Your token has no access: accept the model's terms on its page, or use another token");
  if (r.status == 404 || r.status == 410)
    throw Error(ErrorCode::ModelNotFound, name + " was not found on " + endpoint_ + said,
                code == "RevisionNotFound" ? "Check the revision after '@' (a branch, tag or commit)"
                                           : "Check the repository name (org/name) and the revision");
  if (r.status == 429)
    throw Error(ErrorCode::General,
                "the hub kept refusing requests for " + name + " (HTTP 429, rate limited) at " + url,
                "Wait a few minutes, or set HF_TOKEN: signed-in users get a higher rate limit");
  throw Error(ErrorCode::General,
              "the hub answered HTTP " + std::to_string(r.status) + " for " + name + " at " + url + said,
              "Try again later; check HF_ENDPOINT");
}

std::string HubSession::get_text(const std::string& url, std::string_view what, size_t cap) const {
  std::string body;
  HttpRequest req;
  req.url = url;
  request(req, what, [&](long, std::string_view chunk) -> std::string {
    if (body.size() + chunk.size() > cap) return "the answer is larger than " + std::to_string(cap) + " bytes";
    body.append(chunk);
    return {};
  });
  return body;
}

std::string HubSession::get_range(const std::string& url, std::string_view what, uint64_t offset,
                                  uint64_t length) const {
  std::string body;
  if (length == 0) return body;
  HttpRequest req;
  req.url = url;
  req.range_from = offset;
  req.range_to = offset + length - 1;
  static const std::string kEnough = "enough";
  try {
    request(req, what, [&](long status, std::string_view chunk) -> std::string {
      // A 200 is the whole file: usable from offset 0, useless (and huge) otherwise.
      if (status == 200 && offset > 0) return "the server ignores HTTP ranges";
      body.append(chunk.substr(0, std::min<size_t>(chunk.size(), length - body.size())));
      return body.size() == length && status == 200 ? kEnough : std::string();
    });
  } catch (const SinkError& e) {
    if (e.what() != kEnough)
      throw Error(ErrorCode::General, std::string(what) + ": " + e.what() + " (" + url + ")",
                  "Use a hub endpoint that supports ranged reads, or download the model first");
  }
  if (body.size() != length)
    throw Error(ErrorCode::ValidationFailed,
                std::string(what) + ": the hub sent " + std::to_string(body.size()) + " bytes of a " +
                    std::to_string(length) + "-byte range",
                "The file is shorter than its header says; it is damaged on the hub or in transit");
  return body;
}

}  // namespace libquant::io::hub

namespace libquant::io::hub {

namespace {
[[noreturn]] void bad_listing(const std::string& why) {
  throw Error(ErrorCode::ValidationFailed, "the hub's model answer is not usable: " + why,
              "The endpoint is not a Hugging Face hub or sent a crafted answer; check HF_ENDPOINT");
}
}  // namespace

HubRepoListing parse_repo_listing(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    bad_listing(std::string("not JSON (") + simdjson::error_message(err) + ")");
  HubRepoListing listing;
  std::string_view sha;
  if (root["sha"].get_string().get(sha) || !is_commit_hash(sha)) bad_listing("no 40-hex 'sha' (commit)");
  listing.commit = std::string(sha);
  simdjson::dom::array siblings;
  if (root["siblings"].get_array().get(siblings)) bad_listing("no 'siblings' list");
  for (auto s : siblings) {
    HubFileEntry f;
    std::string_view name, blob;
    if (s["rfilename"].get_string().get(name)) bad_listing("a file without 'rfilename'");
    check_repo_path(name, "file name");
    f.path = std::string(name);
    uint64_t size = 0;
    if (!s["size"].get_uint64().get(size)) f.size = size;
    if (!s["blobId"].get_string().get(blob)) f.blob_id = std::string(blob);
    simdjson::dom::object lfs;
    if (!s["lfs"].get_object().get(lfs)) {
      std::string_view sha256;
      if (lfs["sha256"].get_string().get(sha256) || lfs["size"].get_uint64().get(size))
        bad_listing("LFS file '" + f.path + "' without sha256 and size");
      f.sha256 = std::string(sha256);
      f.size = size;
      check_etag(f.sha256);
    }
    if (!f.blob_id.empty()) check_etag(f.blob_id);
    listing.files.push_back(std::move(f));
  }
  return listing;
}

}  // namespace libquant::io::hub
