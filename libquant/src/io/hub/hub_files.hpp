#pragma once
// Which files of a repository a job needs, from a listing (online) or a
// snapshot directory (offline): the small config/tokenizer files and either
// the safetensors weights or one GGUF file.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/io/hub.hpp"

namespace libquant::io::hub {

struct ModelFiles {
  std::vector<std::string> small;    // config, tokenizer, generation files (read whole)
  std::vector<std::string> weights;  // safetensors shards, or the one GGUF file
  bool gguf = false;
};

// `present`: every file of the repository. `read_file(path)` returns a small
// file's text (the safetensors index), fetching it when needed.
ModelFiles select_model_files(const std::vector<std::string>& present, const HubModelRef& ref,
                              const std::string& gguf_file,
                              const std::function<std::string(const std::string&)>& read_file);

}  // namespace libquant::io::hub
