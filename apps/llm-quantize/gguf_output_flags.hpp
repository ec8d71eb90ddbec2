#pragma once
// llama-quantize's flags that edit the output GGUF without touching tensor
// data: `--prune-layers L0,L1,...` and `--override-kv KEY=TYPE:VALUE`. Parsed
// and checked here (exit 2 naming the bad part); the library applies them.
#include <string>
#include <vector>

#include "libquant/io/gguf_file.hpp"

namespace cli {

// "3,1,7" -> {3, 1, 7}; a part that is not a non-negative integer: exit 2.
std::vector<int> parse_prune_layers(const std::string& list);

// KEY=TYPE:VALUE with TYPE int, float, bool or str, typed as the 2026
// llama-quantize writes them: int as UINT32 of its magnitude, float as
// FLOAT32, bool, str (at most 127 bytes, as are keys).
std::vector<libquant::io::GgufKv> parse_metadata_overrides(const std::vector<std::string>& specs);

}  // namespace cli
