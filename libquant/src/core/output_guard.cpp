#include "libquant/core/output_guard.hpp"

#include <string>

#include "libquant/core/error.hpp"

namespace libquant {
namespace fs = std::filesystem;

namespace {

// Whether `inner` is `outer` or lies below it (both canonical).
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

[[noreturn]] void refuse(const fs::path& output, const fs::path& input, const char* why) {
  throw Error(ErrorCode::InvalidArgument, "output '" + output.string() + "' " + why + " input '" + input.string() + "'",
              "Choose another output path (-o / -n); inputs are never overwritten");
}

}  // namespace

void require_output_apart_from_inputs(const fs::path& output, const std::vector<fs::path>& inputs, OutputKind kind) {
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(fs::absolute(output, ec), ec);
  const bool out_exists = fs::exists(output, ec);
  for (const fs::path& input : inputs) {
    if (input.empty() || !fs::exists(input, ec)) continue;
    const fs::path in = fs::canonical(input, ec);
    if (ec) continue;
    if (out_exists && fs::equivalent(output, input, ec)) refuse(output, input, "is the");
    const bool in_dir = fs::is_directory(in, ec);
    if (kind == OutputKind::Directory) {
      if (within(out, in)) refuse(output, input, in_dir ? "would be created inside or in place of the" : "is the");
      if (within(in, out)) refuse(output, input, "would replace the directory holding the");
    } else if (in_dir && out_exists && within(out, in)) {
      refuse(output, input, "would overwrite a file of the");
    }
  }
}

}  // namespace libquant
