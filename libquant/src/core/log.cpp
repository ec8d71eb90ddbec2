#include "libquant/core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace libquant {
namespace {
std::atomic<Verbosity> g_verbosity{Verbosity::Normal};
std::mutex g_log_mutex;  // guards g_sink and serialises the calls
LogSink g_sink;

void to_stderr(LogLevel level, std::string_view msg) {
  const char* prefix = level == LogLevel::Warning ? "warning: " : level == LogLevel::Debug ? "debug: " : "";
  std::fprintf(stderr, "[libquant] %s%.*s\n", prefix, static_cast<int>(msg.size()), msg.data());
}

void emit(LogLevel level, std::string_view msg) {
  std::lock_guard lock(g_log_mutex);
  if (g_sink)
    g_sink(level, msg);
  else
    to_stderr(level, msg);
}
}  // namespace

void set_verbosity(Verbosity v) noexcept { g_verbosity = v; }
Verbosity verbosity() noexcept { return g_verbosity; }

void set_log_sink(LogSink sink) {
  std::lock_guard lock(g_log_mutex);
  g_sink = std::move(sink);
}

void log_info(std::string_view msg) {
  if (g_verbosity >= Verbosity::Normal) emit(LogLevel::Info, msg);
}
void log_warning(std::string_view msg) {
  if (g_verbosity >= Verbosity::Normal) emit(LogLevel::Warning, msg);
}
void log_verbose(std::string_view msg) {
  if (g_verbosity >= Verbosity::Verbose) emit(LogLevel::Verbose, msg);
}
void log_debug(std::string_view msg) {
  if (g_verbosity >= Verbosity::Debug) emit(LogLevel::Debug, msg);
}

}  // namespace libquant
