#include "tensor_type_flags.hpp"

#include <fstream>
#include <sstream>

#include "cli_output.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/pattern.hpp"

namespace cli {
namespace {

using libquant::Error;
using libquant::ErrorCode;

// One REGEX=TYPE entry; `where` names its origin in errors ("--tensor-type", "types.txt:3").
std::pair<std::string, libquant::DType> parse_entry(const std::string& spec, const std::string& where) {
  const auto eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw Error(ErrorCode::InvalidArgument, where + ": '" + spec + "' is not REGEX=TYPE",
                "Example: attn_v=Q8_0 (a pattern searched in tensor names, then a ggml type)");
  std::string pattern = spec.substr(0, eq);
  try {
    libquant::Pattern(pattern, ErrorCode::InvalidArgument, "tensor-type pattern");
  } catch (const Error& e) {
    throw Error(ErrorCode::InvalidArgument, where + ": " + e.what(),
                "Patterns use RE2 syntax, e.g. blk\\.[0-3]\\.attn_v");
  }
  return {std::move(pattern), parse_ggml_type(spec.substr(eq + 1), where)};
}

}  // namespace

TensorTypeOverrides parse_tensor_type_overrides(const std::vector<std::string>& flags, const std::string& file) {
  TensorTypeOverrides out;
  for (const auto& spec : flags) out.push_back(parse_entry(spec, "--tensor-type"));
  if (file.empty()) return out;
  std::ifstream in(file);
  if (!in)
    throw Error(ErrorCode::InvalidArgument, "cannot read --tensor-type-file '" + file + "'",
                "Give a text file of REGEX=TYPE entries");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    for (std::string spec; words >> spec;) out.push_back(parse_entry(spec, file + ":" + std::to_string(number)));
  }
  if (in.bad()) throw Error(ErrorCode::InvalidArgument, "cannot read --tensor-type-file '" + file + "'");
  return out;
}

}  // namespace cli
