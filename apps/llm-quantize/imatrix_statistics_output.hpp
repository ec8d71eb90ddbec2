#pragma once
// `analyze --show-statistics --in-file FILE`: llama-imatrix's statistics of
// one importance matrix (per weight and per layer), as its table or as JSON.
#include <string>

#include "commands.hpp"

namespace cli {

int show_imatrix_statistics(const GlobalOptions& g, const std::string& imatrix);

}  // namespace cli
