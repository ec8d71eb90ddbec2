#pragma once
// Library messages (progress lines, warnings, diagnostics), filtered by the
// global verbosity and handed to a sink. The default sink writes one line per
// message to stderr ("[libquant] ..."); an embedding program installs its own
// with set_log_sink (its UI, its logger, or nothing). stdout is never written.
#include <functional>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant {

enum class Verbosity { Quiet = 0, Normal = 1, Verbose = 2, Debug = 3 };

LIBQUANT_API void set_verbosity(Verbosity v) noexcept;
LIBQUANT_API Verbosity verbosity() noexcept;

enum class LogLevel { Info, Warning, Verbose, Debug };

// Receives every message that passes the verbosity filter. Calls are
// serialised (one at a time, from whichever thread logs); a sink must not log.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;
// Installs `sink` for all later messages; an empty function restores the
// default stderr sink.
LIBQUANT_API void set_log_sink(LogSink sink);

LIBQUANT_API void log_info(std::string_view msg);     // Normal and above
LIBQUANT_API void log_warning(std::string_view msg);  // always, except Quiet
LIBQUANT_API void log_verbose(std::string_view msg);  // Verbose and above
LIBQUANT_API void log_debug(std::string_view msg);    // Debug

}  // namespace libquant
