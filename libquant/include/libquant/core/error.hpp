#pragma once
// Errors: every failure inside libquant is a libquant::Error whose code is the
// exit status the CLI returns (see docs/cli.md), so that callers and scripts
// see one vocabulary whichever layer failed.
#include <stdexcept>
#include <string>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

enum class ErrorCode : int {
  Success = 0,
  General = 1,
  InvalidArgument = 2,
  ModelNotFound = 3,
  AuthenticationRequired = 4,
  OutOfMemory = 5,
  ValidationFailed = 6,
  CheckpointError = 7,
  UnsupportedConversion = 8,
  CancelledAfterQualityWarning = 9,
  ImatrixInvalid = 10,
  QualityDegradation = 11,
  CoherenceFailed = 12,
  ProfileInvalid = 13,
  SmoothQuantFailed = 14,
  CalibrationDataError = 15,
  ImportanceFailed = 16,
  FactorizationFailed = 20,
  LittleBitQualityExceeded = 21,
  InvalidBpwRange = 22,
  RankSelectionFailed = 23,
  ReconstructionFailed = 24,
};

// The `error_type` string of the JSON error object, e.g. "ModelNotFoundError".
LIBQUANT_API std::string_view error_type_name(ErrorCode code) noexcept;

// The system's text for an errno value (thread-safe, unlike std::strerror).
LIBQUANT_API std::string system_error_text(int err);

class LIBQUANT_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string suggestion = {});
  ErrorCode code() const noexcept { return code_; }
  int exit_code() const noexcept { return static_cast<int>(code_); }
  const std::string& suggestion() const noexcept { return suggestion_; }

 private:
  ErrorCode code_;
  std::string suggestion_;
};

// Throws Error(code, message) when `cond` is false. A function, not a macro, so
// the message is only built by the caller when it is cheap to do so.
inline void check(bool cond, ErrorCode code, std::string_view message) {
  if (!cond) throw Error(code, std::string(message));
}
inline void check(bool cond, ErrorCode code, std::string_view message, std::string_view suggestion) {
  if (!cond) throw Error(code, std::string(message), std::string(suggestion));
}

}  // namespace libquant
