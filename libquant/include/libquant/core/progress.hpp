#pragma once
// Progress reporting for long jobs. The library reports (stage, done, total);
// what happens with it is the caller's business. TerminalProgress draws a bar
// with an ETA on stderr, and stays silent when stderr is not a terminal.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void begin(std::string_view stage, uint64_t total, std::string_view unit) = 0;
  // `done` units of `total` finished; `label` names the current item.
  virtual void update(uint64_t done, std::string_view label) = 0;
  virtual void end() = 0;
};

// A sink that drops everything (the default for library callers).
LIBQUANT_API ProgressSink& null_progress();

// Called by a resumable job as its output advances, with the job's own counter
// (each job's options say what it counts and when it is called). Embedding
// programs mirror progress into their own records with it; crash tests stop
// the process there to check that a resumed run gives the same bytes. Runs on
// the job's thread; an exception it throws ends the job with that exception.
using ProgressHook = std::function<void(uint64_t done)>;

class LIBQUANT_API TerminalProgress final : public ProgressSink {
 public:
  // `enabled` false gives a silent sink; by default it is on only for a TTY.
  explicit TerminalProgress(bool enabled);
  static bool stderr_is_terminal();
  void begin(std::string_view stage, uint64_t total, std::string_view unit) override;
  void update(uint64_t done, std::string_view label) override;
  void end() override;

 private:
  void draw(bool final_line);
  bool enabled_;
  std::string stage_, unit_, label_;
  uint64_t total_ = 0, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1:02:03" or "4:05" for a duration in seconds (used for ETAs).
LIBQUANT_API std::string format_duration(double seconds);

}  // namespace libquant
