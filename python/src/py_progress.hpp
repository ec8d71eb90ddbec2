#pragma once
// Progress from a job to Python, and the way out of a job for Python: while
// a job runs with the GIL released, every progress update takes the GIL back
// briefly to run pending signal handlers (Ctrl-C) and the caller's callback.
// A Python exception from either stops the job (its own cleanup removes any
// partial output) and is raised again to the caller unchanged, so Ctrl-C is
// a KeyboardInterrupt as everywhere else in Python.
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "bindings.hpp"
#include "libquant/core/progress.hpp"

namespace libquant::python {

class PythonProgress final : public ProgressSink {
 public:
  // `callback(stage, done, total)`, if any.
  explicit PythonProgress(const std::optional<nb::callable>& callback)
      : callback_(callback ? nb::object(*callback) : nb::none()) {}
  void begin(std::string_view stage, uint64_t total, std::string_view unit) override;
  void update(uint64_t done, std::string_view label) override;
  void end() override;

  // Runs job() without the GIL; re-raises what stopped it from Python.
  template <typename Job>
  auto run(Job&& job) -> decltype(job()) {
    try {
      nb::gil_scoped_release release;
      return job();
    } catch (const Stop&) {
      std::rethrow_exception(pending_);  // the nb::python_error, raised again with the GIL held
    }
  }

 private:
  struct Stop {};  // not a std::exception: no library handler mistakes it for a failure of its own
  void poll(uint64_t done, bool force);

  nb::object callback_;
  std::exception_ptr pending_;
  std::string stage_;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point last_callback_{};
};

}  // namespace libquant::python
