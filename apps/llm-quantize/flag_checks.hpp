#pragma once
// Range checks for numeric flags. CLI11's own Range lets NaN through (every
// comparison with NaN is false), so real-valued flags use finite_range, and
// every parsed value is screened for NaN/Inf once after parsing.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>

namespace cli {

// A real number in [lo, hi] (NaN and infinities refused).
CLI::Validator finite_range(double lo, double hi);
// A real number > 0 (finite).
CLI::Validator finite_positive();
// An output file name (-n): a plain name, no directory part ('/', '.', '..'),
// so that the output lands in --output-dir and nowhere else.
CLI::Validator plain_file_name();
// Worker threads: 0 (all cores) to 4096.
CLI::Validator thread_count();

// Throws CLI::ValidationError when any value given to any parsed option of
// `app` (and its parsed subcommands) reads as NaN or infinity.
void reject_non_finite_values(const CLI::App& app);

}  // namespace cli
