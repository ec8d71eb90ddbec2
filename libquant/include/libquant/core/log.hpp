#pragma once
// Logging to stderr, filtered by the global verbosity. stdout is reserved for
// results; nothing here ever writes to it.
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

enum class Verbosity { Quiet = 0, Normal = 1, Verbose = 2, Debug = 3 };

LIBQUANT_API void set_verbosity(Verbosity v) noexcept;
LIBQUANT_API Verbosity verbosity() noexcept;

// Messages are prefixed "[llm-quantize]" like the original tool's progress lines.
LIBQUANT_API void log_info(std::string_view msg);     // Normal and above
LIBQUANT_API void log_warning(std::string_view msg);  // always, except Quiet
LIBQUANT_API void log_verbose(std::string_view msg);  // Verbose and above
LIBQUANT_API void log_debug(std::string_view msg);    // Debug

}  // namespace libquant
