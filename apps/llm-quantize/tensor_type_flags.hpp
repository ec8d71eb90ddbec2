#pragma once
// Per-tensor type overrides: `--tensor-type REGEX=TYPE` (repeatable) and
// `--tensor-type-file FILE` (llama-quantize's format: REGEX=TYPE entries
// separated by spaces or newlines; `#` starts a comment to the end of the
// line, an extension). Every entry is checked here -- its type and that its
// pattern compiles -- so a bad one is exit 2 naming the file and line before
// any model is read.
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/dtype.hpp"

namespace cli {

using TensorTypeOverrides = std::vector<std::pair<std::string, libquant::DType>>;

// The flags' entries first, then the file's, in their order (the first matching pattern wins).
TensorTypeOverrides parse_tensor_type_overrides(const std::vector<std::string>& flags, const std::string& file);

}  // namespace cli
