#pragma once
// --checkpoint-dir / --resume / --no-checkpoints, shared by the commands that
// do long work (quantize, analyze), and where their checkpoints go.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace cli {

struct CheckpointFlags {
  std::string dir;     // explicit --checkpoint-dir
  std::string resume;  // --resume DIR
  bool none = false;   // --no-checkpoints

  void add_to(CLI::App* sub);
  bool resuming() const { return !resume.empty(); }
  // The directory to use: --resume's, an explicit one (errors there are exit
  // 7), else the default ($LLM_QUANTIZE_CHECKPOINT_DIR or ./.checkpoint) when
  // it is writable (with a warning otherwise), or none.
  std::optional<std::filesystem::path> directory() const;
  // After success: removes the default directory again if the job left it empty.
  void tidy(const std::optional<std::filesystem::path>& used) const;
};

}  // namespace cli
