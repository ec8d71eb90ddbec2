#pragma once
// Which `quantize` flags apply to which output formats. A flag given for a
// format it does nothing for is an error (exit 2 naming the flag and the
// formats it is for) instead of being silently ignored.
#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// Throws Error(InvalidArgument) for the first flag of `sub` (the parsed
// quantize subcommand) that was given but does not apply to `format`.
void reject_flags_outside_format(const CLI::App& sub, const std::string& format);

}  // namespace cli
