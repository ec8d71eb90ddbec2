#include "libquant/core/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace libquant {
namespace {
class NullProgress final : public ProgressSink {
 public:
  void begin(std::string_view, uint64_t, std::string_view) override {}
  void update(uint64_t, std::string_view) override {}
  void end() override {}
};
}  // namespace

ProgressSink& null_progress() {
  static NullProgress sink;
  return sink;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long long s = std::llround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

TerminalProgress::TerminalProgress(bool enabled) : enabled_(enabled) {}

bool TerminalProgress::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void TerminalProgress::begin(std::string_view stage, uint64_t total, std::string_view unit) {
  stage_ = stage;
  unit_ = unit;
  total_ = total;
  done_ = 0;
  label_.clear();
  start_ = last_draw_ = std::chrono::steady_clock::now();
  draw(false);
}

void TerminalProgress::update(uint64_t done, std::string_view label) {
  done_ = done;
  label_ = label;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most ~10 times a second, and always on the last item.
  if (done_ >= total_ || now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  }
}

void TerminalProgress::end() { draw(true); }

void TerminalProgress::draw(bool final_line) {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  constexpr int kWidth = 20;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar;
  for (int i = 0; i < kWidth; ++i) bar += i < filled ? "\u2501" : " ";
  const double eta = done_ ? elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_) : NAN;
  char amount[64];
  if (unit_ == "B")  // bytes (downloads): MB with a rate
    std::snprintf(amount, sizeof amount, "%.1f/%.1f MB, %.1f MB/s", static_cast<double>(done_) / 1e6,
                  static_cast<double>(total_) / 1e6, elapsed > 0 ? static_cast<double>(done_) / 1e6 / elapsed : 0.0);
  else
    std::snprintf(amount, sizeof amount, "%llu/%llu %s", static_cast<unsigned long long>(done_),
                  static_cast<unsigned long long>(total_), unit_.c_str());
  std::fprintf(stderr, "\r\033[K%s %s %3d%% %s [%s elapsed, ETA %s] %s", stage_.c_str(), bar.c_str(),
               static_cast<int>(frac * 100), amount, format_duration(elapsed).c_str(),
               final_line ? "0:00" : format_duration(eta).c_str(), label_.c_str());
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace libquant
