#pragma once
// Which `quantize` flags apply to which output formats. A flag given for a
// format it does nothing for is an error (exit 2 naming the flag and the
// formats it is for) instead of being silently ignored.
#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// Throws Error(InvalidArgument) for the first flag of `sub` (the parsed
// quantize subcommand) that was given but does not apply to `format`.
// gguf: the calibration flags and --damp feed --gptq only (exit 2 without it).
void reject_gguf_calibration_without_gptq(const CLI::App& sub, const std::string& format, bool gptq);
void reject_flags_outside_format(const CLI::App& sub, const std::string& format);

// What a `littlebit compress` / `convert` run does, for the flags that only act on part of it.
struct LittleBitRun {
  std::string format;    // littlebit | gguf-ext | gguf-lossy
  bool refine = true;    // without --no-refine
  bool validate = true;  // without --skip-validation (or with --quality-threshold)
};
// The same for `littlebit compress` / `convert`: --gguf-quant needs gguf-lossy,
// the calibration, refinement and block-matching flags need refinement, the
// validation flags need validation.
void reject_littlebit_flags_that_do_nothing(const CLI::App& sub, const LittleBitRun& run);

}  // namespace cli
