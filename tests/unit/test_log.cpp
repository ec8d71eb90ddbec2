// The log sink: an embedding program receives the library's messages (level
// and text), filtered by the verbosity, and can restore the stderr default.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "libquant/core/log.hpp"

using namespace libquant;

TEST_CASE("log messages reach an installed sink, filtered by verbosity", "[log]") {
  std::vector<std::pair<LogLevel, std::string>> got;
  set_log_sink([&](LogLevel level, std::string_view msg) { got.emplace_back(level, std::string(msg)); });
  const Verbosity before = verbosity();
  set_verbosity(Verbosity::Normal);
  log_info("loading");
  log_warning("careful");
  log_verbose("details");  // below Normal: dropped before the sink
  log_debug("internals");
  set_verbosity(Verbosity::Debug);
  log_debug("internals");
  set_verbosity(Verbosity::Quiet);
  log_warning("silenced");
  set_verbosity(before);
  set_log_sink({});  // back to stderr; the vector above must not be called any more
  log_info("to stderr");
  const std::vector<std::pair<LogLevel, std::string>> want = {
      {LogLevel::Info, "loading"}, {LogLevel::Warning, "careful"}, {LogLevel::Debug, "internals"}};
  CHECK(got == want);
}
