#include "hub_models.hpp"

#include "environment.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/io/hub.hpp"

namespace cli {

namespace fs = std::filesystem;

namespace {

struct MarkedArgument {
  CLI::Option* opt;
  std::string* value;
  std::vector<std::string>* values;
  HubNeed need;
};

std::vector<MarkedArgument>& marked() {
  static std::vector<MarkedArgument> list;
  return list;
}
std::map<std::string, std::string>& display_names() {
  static std::map<std::string, std::string> names;
  return names;
}

// Scratch directories of header-only fetches, removed when the process ends.
struct ScratchDirs {
  std::vector<fs::path> dirs;
  ~ScratchDirs() {
    for (const auto& d : dirs) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  }
};
ScratchDirs& scratch_dirs() {
  static ScratchDirs s;
  return s;
}

bool truthy(std::string v) {
  for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Progress of downloads as JSON lines on stderr (`--format json`): stdout keeps the result only.
class JsonLinesProgress final : public libquant::ProgressSink {
 public:
  void begin(std::string_view stage, uint64_t total, std::string_view unit) override {
    stage_ = stage;
    total_ = total;
    unit_ = unit;
    start_ = last_ = std::chrono::steady_clock::now();
    emit(0, "", "begin");
  }
  void update(uint64_t done, std::string_view label) override {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500) && done < total_) return;
    last_ = now;
    emit(done, label, "progress");
  }
  void end() override { emit(total_, "", "end"); }

 private:
  void emit(uint64_t done, std::string_view label, const char* event) {
    libquant::JsonWriter j(0);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    j.begin_object()
        .field("event", event)
        .field("stage", stage_)
        .field("done", done)
        .field("total", total_)
        .field("unit", unit_);
    if (!label.empty()) j.field("file", std::string(label));
    if (done > 0 && done < total_)
      j.field("eta_s", elapsed / static_cast<double>(done) * static_cast<double>(total_ - done));
    j.end_object();
    std::fprintf(stderr, "%s\n", j.str().c_str());
    std::fflush(stderr);
  }
  std::string stage_, unit_;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

// `info`: headers only, laid out in a scratch directory named like the repository.
libquant::io::HubFetchResult fetch_headers(const libquant::io::HubModelRef& ref,
                                           const libquant::io::HubOptions& options, const std::string& gguf_file,
                                           const std::string& name) {
  std::string tmpl = (fs::temp_directory_path() / "llm-quantize-hub-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw libquant::Error(libquant::ErrorCode::General, "cannot create a scratch directory " + tmpl,
                          "Set TMPDIR to a writable directory");
  scratch_dirs().dirs.emplace_back(tmpl);
  return libquant::io::fetch_hub_model_headers(ref, options, gguf_file, fs::path(tmpl) / name);
}

std::string fetch(const std::string& arg, const GlobalOptions& g, HubNeed need) {
  std::error_code ec;
  if (fs::exists(arg, ec)) return arg;  // a local path always wins
  const auto ref = libquant::io::parse_hub_model_ref(arg);
  if (!ref) return arg;  // not hub-shaped: the job reports "not found"
  libquant::io::HubOptions options = g.hub;
  libquant::TerminalProgress terminal(progress_enabled(g));
  JsonLinesProgress json;
  if (g.mode == OutputMode::Json)
    options.progress = &json;
  else if (progress_enabled(g))
    options.progress = &terminal;
  const std::string name = ref->repo_id.substr(ref->repo_id.find('/') + 1);
  libquant::log_info("Resolving " + arg + " on " + options.endpoint +
                     (options.offline ? " (offline: cache only)" : ""));
  libquant::io::HubFetchResult r;
  try {
    r = need == HubNeed::HeadersOnly ? fetch_headers(*ref, options, g.gguf_file, name)
                                     : libquant::io::fetch_hub_model(*ref, options, g.gguf_file);
  } catch (const libquant::Error& e) {
    // Which GGUF of a repository: the library cannot name our flag, so say it here.
    if (e.code() == libquant::ErrorCode::InvalidArgument &&
        std::string_view(e.what()).find("GGUF") != std::string_view::npos)
      throw libquant::Error(e.code(), e.what(), "Pass --gguf-file NAME. " + e.suggestion());
    throw;
  }
  libquant::log_info(ref->repo_id + " @ " + r.commit.substr(0, 12) + ": " + std::to_string(r.files.size()) +
                     " files, " + human_size(r.downloaded_bytes) + " downloaded, " + human_size(r.cached_bytes) +
                     " from the cache");
  display_names()[r.path.string()] = r.path.extension() == ".gguf" ? r.path.stem().string() : name;
  return r.path.string();
}

}  // namespace

void read_hub_environment(GlobalOptions& g) {
  libquant::io::HubOptions& h = g.hub;
  if (const std::string e = env::text("HF_ENDPOINT"); !e.empty()) h.endpoint = e;
  std::string home = env::text("HF_HOME");
  if (home.empty()) {
    const std::string xdg = env::text("XDG_CACHE_HOME");
    home = xdg.empty() ? env::text("HOME") + "/.cache/huggingface" : xdg + "/huggingface";
  }
  h.cache_dir = env::text("HF_HUB_CACHE");
  if (h.cache_dir.empty()) h.cache_dir = env::text("HUGGINGFACE_HUB_CACHE");
  if (h.cache_dir.empty()) h.cache_dir = fs::path(home) / "hub";
  h.offline = truthy(env::text("HF_HUB_OFFLINE"));
  h.token = trimmed(env::text("HF_TOKEN"));
  if (h.token.empty()) h.token = trimmed(env::text("HUGGING_FACE_HUB_TOKEN"));
  if (h.token.empty()) {
    std::string path = env::text("HF_TOKEN_PATH");
    if (path.empty()) path = home + "/token";
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line)) h.token = trimmed(line);
  }
}

void add_hub_flags(CLI::App& app, GlobalOptions& g) {
  app.add_option("--gguf-file", g.gguf_file,
                 "For a hub MODEL: the GGUF file of the repository to use (else the one matching org/name:QUANT, "
                 "else its only GGUF; safetensors repositories need neither)");
}

CLI::Option* model_argument(CLI::Option* opt, std::string* value, HubNeed need) {
  marked().push_back({opt, value, nullptr, need});
  return opt;
}

CLI::Option* model_argument(CLI::Option* opt, std::vector<std::string>* values) {
  marked().push_back({opt, nullptr, values, HubNeed::Whole});
  return opt;
}

void resolve_hub_models(const GlobalOptions& g) {
  for (const auto& m : marked()) {
    if (m.opt->count() == 0) continue;
    if (m.value) *m.value = fetch(*m.value, g, m.need);
    if (m.values)
      for (auto& v : *m.values) v = fetch(v, g, m.need);
  }
}

std::string hub_display_name(const std::string& path) {
  const auto it = display_names().find(path);
  return it == display_names().end() ? std::string() : it->second;
}

std::string display_file_name(const std::string& path) {
  const std::string hub = hub_display_name(path);
  return hub.empty() ? fs::path(path).filename().string() : hub;
}

}  // namespace cli
