#pragma once
// The library names the options of its messages by their field names in
// backticks ("a smaller `ctx`", "`file_type = dynamic`"): that is what an
// embedding program sets. The tool's users set flags, so every library
// message (errors, suggestions, log lines) passes through in_cli_terms first.
#include <string>
#include <string_view>

namespace cli {

// `text` with each backticked option the CLI has a flag or command for
// replaced by it ("`ctx`" -> "--ctx"); other backticked text is kept as is.
std::string in_cli_terms(std::string_view text);

}  // namespace cli
