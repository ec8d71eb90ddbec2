"""libquant's exceptions: one class per llm-quantize exit code (docs/cli.md).

Every class derives from :class:`Error`, which carries ``code`` (an
:class:`ExitCode`) and ``suggestion`` (what to do about it, or ""). The class
names are the CLI's JSON ``error_type`` values. A few also derive from the
built-in exception Python code already catches for that situation.
"""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    SUCCESS = 0
    GENERAL = 1
    INVALID_ARGUMENT = 2
    MODEL_NOT_FOUND = 3
    AUTHENTICATION_REQUIRED = 4
    OUT_OF_MEMORY = 5
    VALIDATION_FAILED = 6
    CHECKPOINT_ERROR = 7
    UNSUPPORTED_CONVERSION = 8
    CANCELLED_AFTER_QUALITY_WARNING = 9
    IMATRIX_INVALID = 10
    QUALITY_DEGRADATION = 11
    COHERENCE_FAILED = 12
    PROFILE_INVALID = 13
    SMOOTHQUANT_FAILED = 14
    CALIBRATION_DATA_ERROR = 15
    IMPORTANCE_FAILED = 16
    FACTORIZATION_FAILED = 20
    LITTLEBIT_QUALITY_EXCEEDED = 21
    INVALID_BPW_RANGE = 22
    RANK_SELECTION_FAILED = 23
    RECONSTRUCTION_FAILED = 24


class Error(Exception):
    """A libquant failure: ``code`` is the CLI's exit code, ``suggestion`` what to try."""

    code: ExitCode = ExitCode.GENERAL

    def __init__(self, message: str, suggestion: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion

    def __str__(self) -> str:
        return f"{self.message} ({self.suggestion})" if self.suggestion else self.message


class GeneralError(Error):
    code = ExitCode.GENERAL


class InvalidArgumentError(Error, ValueError):
    code = ExitCode.INVALID_ARGUMENT


class ModelNotFoundError(Error, FileNotFoundError):
    code = ExitCode.MODEL_NOT_FOUND


class AuthenticationError(Error):
    code = ExitCode.AUTHENTICATION_REQUIRED


class OutOfMemoryError(Error, MemoryError):
    code = ExitCode.OUT_OF_MEMORY


class ValidationError(Error):
    code = ExitCode.VALIDATION_FAILED


class CheckpointError(Error):
    code = ExitCode.CHECKPOINT_ERROR


class UnsupportedConversionError(Error):
    code = ExitCode.UNSUPPORTED_CONVERSION


class QualityWarningCancelled(Error):
    code = ExitCode.CANCELLED_AFTER_QUALITY_WARNING


class ImportanceMatrixError(Error):
    code = ExitCode.IMATRIX_INVALID


class QualityDegradationError(Error):
    code = ExitCode.QUALITY_DEGRADATION


class CoherenceCheckError(Error):
    code = ExitCode.COHERENCE_FAILED


class ProfileError(Error):
    code = ExitCode.PROFILE_INVALID


class SmoothQuantError(Error):
    code = ExitCode.SMOOTHQUANT_FAILED


class CalibrationDataError(Error):
    code = ExitCode.CALIBRATION_DATA_ERROR


class ImportanceComputationError(Error):
    code = ExitCode.IMPORTANCE_FAILED


class FactorizationFailed(Error):
    code = ExitCode.FACTORIZATION_FAILED


class QualityThresholdExceeded(Error):
    code = ExitCode.LITTLEBIT_QUALITY_EXCEEDED


class InvalidBPWRange(Error):
    code = ExitCode.INVALID_BPW_RANGE


class RankSelectionFailed(Error):
    code = ExitCode.RANK_SELECTION_FAILED


class ReconstructionFailed(Error):
    code = ExitCode.RECONSTRUCTION_FAILED


_BY_CODE: dict[int, type[Error]] = {
    cls.code: cls for cls in Error.__subclasses__()  # direct subclasses: one per code
}

__all__ = ["Error", "ExitCode"] + [cls.__name__ for cls in _BY_CODE.values()]


def _from_code(code: int, message: str, suggestion: str) -> Error:
    """The exception for an exit code (called by the compiled core)."""
    cls = _BY_CODE.get(code, Error)
    return cls(message, suggestion)
