#include "libquant/core/checkpoint.hpp"

#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"

namespace libquant {
namespace fs = std::filesystem;

namespace {

// FNV-1a, 64 bit: a stable name for a configuration string.
std::string fnv1a_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

[[noreturn]] void corrupt(const fs::path& p, const std::string& why) {
  throw Error(ErrorCode::CheckpointError, "checkpoint record '" + p.string() + "' is unusable: " + why,
              "Delete it (or the whole checkpoint directory) and start again");
}

}  // namespace

fs::path default_checkpoint_dir() {
  if (const char* env = std::getenv("LLM_QUANTIZE_CHECKPOINT_DIR"); env && *env) return env;
  return ".checkpoint";
}

std::string file_identity(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return fs::absolute(p).lexically_normal().string();
  return fs::absolute(p).lexically_normal().string() + "|" + std::to_string(st.st_size) + "|" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

Checkpoint::Checkpoint(fs::path dir, std::string job, std::string config)
    : dir_(std::move(dir)), job_(std::move(job)), config_(std::move(config)) {
  key_ = job_ + "-" + fnv1a_hex(job_ + "\n" + config_);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!fs::is_directory(dir_, ec))
    throw Error(ErrorCode::CheckpointError, "cannot create checkpoint directory '" + dir_.string() + "'",
                "Pass a writable --checkpoint-dir, or --no-checkpoints");
}

fs::path Checkpoint::record_path() const { return dir_ / (key_ + ".json"); }
fs::path Checkpoint::partial_path(const std::string& suffix) const { return dir_ / (key_ + suffix); }

std::optional<uint64_t> Checkpoint::load() const {
  const fs::path p = record_path();
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.load(p.string()).get(doc)) corrupt(p, "not valid JSON");
  std::string_view job, config;
  uint64_t done = 0;
  if (doc["job"].get(job) || doc["config"].get(config) || doc["done"].get(done)) corrupt(p, "missing fields");
  // Same key but different text would be a hash collision: refuse, never guess.
  if (job != job_ || config != config_) corrupt(p, "it was made by a different job");
  return done;
}

void Checkpoint::save(uint64_t done) const {
  JsonWriter j(1);
  j.begin_object().field("job", job_).field("config", config_).field("done", done).end_object();
  AtomicFile out(record_path());
  out.write(j.str().data(), j.str().size());
  out.commit();
}

void Checkpoint::clear() const {
  std::error_code ec;
  fs::remove(record_path(), ec);
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.path().filename().string().rfind(key_, 0) == 0) fs::remove(e.path(), ec);
}

}  // namespace libquant
