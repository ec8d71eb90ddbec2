#include "environment.hpp"

#include <csignal>
#include <cmath>
#include <cstdlib>
#include <string>

#include "libquant/core/checkpoint.hpp"
#include "libquant/core/error.hpp"

namespace cli::env {
namespace fs = std::filesystem;
using libquant::Error;
using libquant::ErrorCode;

namespace {
// Read while the CLI parses its arguments, before any job starts a thread.
const char* value_of(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v && *v ? v : nullptr;
}
}  // namespace

std::string text(const char* name) {
  const char* v = value_of(name);
  return v ? std::string(v) : std::string();
}

std::optional<double> number(const char* name) {
  const char* v = value_of(name);
  if (!v) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  if (end == v || *end || !std::isfinite(d))
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " is not a number: '" + v + "'",
                "Unset it or give a number");
  return d;
}

fs::path default_checkpoint_dir() {
  const char* v = value_of("LLM_QUANTIZE_CHECKPOINT_DIR");
  return v ? fs::path(v) : libquant::default_checkpoint_dir();
}

fs::path imatrix_cache_dir() {
  if (const char* v = value_of("LLM_QUANTIZE_IMATRIX_CACHE")) return v;
  const std::string xdg = text("XDG_CACHE_HOME");
  return (xdg.empty() ? fs::path(text("HOME")) / ".cache" : fs::path(xdg)) / "llm-quantize" / "imatrix";
}

std::vector<fs::path> profile_dirs() {
  const char* v = value_of("LLM_QUANTIZE_PROFILE_DIR");
  return v ? std::vector<fs::path>{v} : std::vector<fs::path>{};
}

fs::path cuda_plugin() {
  const char* v = value_of("LLM_QUANTIZE_CUDA_PLUGIN");
  return v ? fs::path(v) : fs::path();
}

void apply_littlebit(libquant::jobs::LittleBitCompressOptions& o) {
  if (auto v = number("LLM_QUANTIZE_LITTLEBIT_MIN_BPW")) o.min_bpw = *v;
  if (auto v = number("LLM_QUANTIZE_LITTLEBIT_MAX_BPW")) o.max_bpw = *v;
  if (auto v = number("LLM_QUANTIZE_LITTLEBIT_RANK_SEARCH")) o.max_rank_rounds = static_cast<int>(*v);
  if (const char* v = value_of("LLM_QUANTIZE_SVD_PRECISION")) {
    const std::string p(v);
    if (p != "float32" && p != "float64")
      throw Error(ErrorCode::InvalidArgument, "LLM_QUANTIZE_SVD_PRECISION must be float32 or float64, not '" + p + "'",
                  "Unset it, or set float32 or float64");
    o.svd.double_precision = p == "float64";
  }
}

libquant::ProgressHook kill_when_reached(const char* name) {
  const auto at = number(name);
  if (!at) return {};
  return [limit = *at](uint64_t done) {
    if (static_cast<double>(done) >= limit) std::raise(SIGKILL);
  };
}

}  // namespace cli::env
