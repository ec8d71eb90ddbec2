#pragma once
// How results and errors reach the user: JSON objects or human text on stdout,
// everything else on stderr.
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/io/hub.hpp"

namespace cli {

enum class OutputMode { Human, Json };

struct GlobalOptions {
  OutputMode mode = OutputMode::Human;
  std::string verbosity = "normal";
  bool csv = false;              // --format csv: tables as CSV (compare); other commands print human text
  std::string device = "auto";   // --device: compute backend (auto | cpu | cuda)
  std::string gguf_file;         // --gguf-file: the GGUF of a hub repository
  libquant::io::HubOptions hub;  // from HF_* variables (hub_models.cpp)
  std::string command_line;      // argv as a shell would take it back (shown by the HTML reports)
};

// argv joined with spaces, each argument quoted for a POSIX shell when it needs it.
std::string shell_command_line(int argc, const char* const* argv);

// Prints the error (JSON object on stdout in JSON mode, text on stderr
// otherwise) and returns the exit code to use.
int report_error(const GlobalOptions& g, libquant::ErrorCode code, const std::string& message,
                 const std::string& suggestion);
void print_json(const libquant::JsonWriter& j);
// Progress bars: human mode, a terminal on stderr, and not --verbosity quiet.
bool progress_enabled(const GlobalOptions& g);
// "1.2 MB" style sizes for human output.
std::string human_size(uint64_t bytes);
// Thousands separators: 6,738,415,616.
std::string with_commas(uint64_t n);
// The model's name for default outputs: the directory's, or the .gguf file's stem.
std::string model_stem(const std::string& model);
// A ggml type name (case-insensitive) given for `flag`; exit 2 when unknown.
libquant::DType parse_ggml_type(const std::string& name, const std::string& flag);

}  // namespace cli
