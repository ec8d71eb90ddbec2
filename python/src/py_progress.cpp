#include "py_progress.hpp"

#include <nanobind/stl/string.h>

namespace libquant::python {

namespace {
// The callback sees at most this many updates per second (plus every stage's
// first and last); signals are checked on every update regardless.
constexpr auto kCallbackInterval = std::chrono::milliseconds(100);
}  // namespace

void PythonProgress::begin(std::string_view stage, uint64_t total, std::string_view) {
  stage_ = std::string(stage);
  total_ = total;
  poll(0, true);
}

void PythonProgress::update(uint64_t done, std::string_view) { poll(done, done >= total_); }

void PythonProgress::end() {}

void PythonProgress::poll(uint64_t done, bool force) {
  nb::gil_scoped_acquire gil;
  if (pending_) throw Stop{};  // another thread of the same job already stopped it
  try {
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
    const auto now = std::chrono::steady_clock::now();
    if (!callback_.is_none() && (force || now - last_callback_ >= kCallbackInterval)) {
      last_callback_ = now;
      callback_(stage_, done, total_);
    }
  } catch (nb::python_error&) {
    pending_ = std::current_exception();
    throw Stop{};
  }
}

}  // namespace libquant::python
