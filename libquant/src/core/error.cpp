#include "libquant/core/error.hpp"

#include <system_error>

namespace libquant {

std::string system_error_text(int err) { return std::generic_category().message(err); }

std::string_view error_type_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Success:
      return "Success";
    case ErrorCode::General:
      return "GeneralError";
    case ErrorCode::InvalidArgument:
      return "InvalidArgumentError";
    case ErrorCode::ModelNotFound:
      return "ModelNotFoundError";
    case ErrorCode::AuthenticationRequired:
      return "AuthenticationError";
    case ErrorCode::OutOfMemory:
      return "OutOfMemoryError";
    case ErrorCode::ValidationFailed:
      return "ValidationError";
    case ErrorCode::CheckpointError:
      return "CheckpointError";
    case ErrorCode::UnsupportedConversion:
      return "UnsupportedConversionError";
    case ErrorCode::CancelledAfterQualityWarning:
      return "QualityWarningCancelled";
    case ErrorCode::ImatrixInvalid:
      return "ImportanceMatrixError";
    case ErrorCode::QualityDegradation:
      return "QualityDegradationError";
    case ErrorCode::CoherenceFailed:
      return "CoherenceCheckError";
    case ErrorCode::ProfileInvalid:
      return "ProfileError";
    case ErrorCode::SmoothQuantFailed:
      return "SmoothQuantError";
    case ErrorCode::CalibrationDataError:
      return "CalibrationDataError";
    case ErrorCode::ImportanceFailed:
      return "ImportanceComputationError";
    case ErrorCode::FactorizationFailed:
      return "FactorizationFailed";
    case ErrorCode::LittleBitQualityExceeded:
      return "QualityThresholdExceeded";
    case ErrorCode::InvalidBpwRange:
      return "InvalidBPWRange";
    case ErrorCode::RankSelectionFailed:
      return "RankSelectionFailed";
    case ErrorCode::ReconstructionFailed:
      return "ReconstructionFailed";
  }
  return "Error";
}

Error::Error(ErrorCode code, const std::string& message, std::string suggestion)
    : std::runtime_error(message), code_(code), suggestion_(std::move(suggestion)) {}

}  // namespace libquant
