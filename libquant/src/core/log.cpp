#include "libquant/core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace libquant {
namespace {
std::atomic<Verbosity> g_verbosity{Verbosity::Normal};
std::mutex g_log_mutex;

void emit(std::string_view prefix, std::string_view msg) {
  std::lock_guard lock(g_log_mutex);
  std::fprintf(stderr, "[llm-quantize] %.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
               static_cast<int>(msg.size()), msg.data());
}
}  // namespace

void set_verbosity(Verbosity v) noexcept { g_verbosity = v; }
Verbosity verbosity() noexcept { return g_verbosity; }

void log_info(std::string_view msg) {
  if (g_verbosity >= Verbosity::Normal) emit("", msg);
}
void log_warning(std::string_view msg) {
  if (g_verbosity >= Verbosity::Normal) emit("warning: ", msg);
}
void log_verbose(std::string_view msg) {
  if (g_verbosity >= Verbosity::Verbose) emit("", msg);
}
void log_debug(std::string_view msg) {
  if (g_verbosity >= Verbosity::Debug) emit("debug: ", msg);
}

}  // namespace libquant
