#pragma once
// How the C API turns C++ outcomes into lq_status: every entry point runs its
// body through guarded(), which records the calling thread's error and maps
// libquant::Error to its exit code, a progress callback's stop to
// LQ_CANCELLED and allocation failure to LQ_OUT_OF_MEMORY. No exception leaves.
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "libquant/c/libquant.h"
#include "libquant/core/error.hpp"
#include "libquant/core/progress.hpp"

namespace libquant::c_api {

struct LastError {
  std::string message, suggestion;
};
LastError& last_error();

// Thrown by CallbackProgress when the caller's progress function asks to stop.
struct Cancelled {};

template <typename Body>
lq_status guarded(Body&& body) noexcept {
  LastError& e = last_error();
  try {
    body();
    return LQ_OK;
  } catch (const Error& x) {
    e = {x.what(), x.suggestion()};
    return static_cast<lq_status>(x.exit_code());
  } catch (const Cancelled&) {
    e = {"cancelled by the progress callback", ""};
    return LQ_CANCELLED;
  } catch (const std::bad_alloc&) {
    e = {"out of memory", "Free memory or use a smaller model"};
    return LQ_OUT_OF_MEMORY;
  } catch (const std::exception& x) {
    e = {x.what(), ""};
    return LQ_GENERAL;
  } catch (...) {
    e = {"unknown failure", ""};
    return LQ_GENERAL;
  }
}

// A ProgressSink that forwards to an lq_progress_fn and stops the job (by
// throwing Cancelled from the job's own thread) when it returns nonzero.
class CallbackProgress final : public ProgressSink {
 public:
  CallbackProgress(lq_progress_fn fn, void* user) : fn_(fn), user_(user) {}
  void begin(std::string_view stage, uint64_t total, std::string_view unit) override;
  void update(uint64_t done, std::string_view label) override;
  void end() override {}
  ProgressSink* sink() { return fn_ ? this : nullptr; }

 private:
  lq_progress_fn fn_;
  void* user_;
  std::string stage_;
  uint64_t total_ = 0;
};

// A copy of `json` in malloc'ed memory for *out (freed with lq_free).
void hand_over(const std::string& json, char** out);

}  // namespace libquant::c_api
