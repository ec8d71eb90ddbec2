#include "checkpoint_flags.hpp"

#include <unistd.h>

#include "environment.hpp"
#include "libquant/core/log.hpp"

namespace cli {
namespace fs = std::filesystem;

void CheckpointFlags::add_to(CLI::App* sub) {
  auto* d = sub->add_option("--checkpoint-dir", dir,
                            "Checkpoint directory (default $LLM_QUANTIZE_CHECKPOINT_DIR or ./.checkpoint)");
  auto* r = sub->add_option("--resume", resume, "Resume an interrupted run from this checkpoint directory");
  sub->add_flag("--no-checkpoints", none, "Do not record checkpoints")->excludes(d)->excludes(r);
}

std::optional<fs::path> CheckpointFlags::directory() const {
  if (!resume.empty()) return fs::path(resume);
  if (none) return std::nullopt;
  if (!dir.empty()) return fs::path(dir);
  // A read-only working directory should not stop a run.
  const fs::path d = env::default_checkpoint_dir();
  std::error_code ec;
  fs::create_directories(d, ec);
  if (fs::is_directory(d, ec) && ::access(d.c_str(), W_OK) == 0) return d;
  libquant::log_warning("checkpoint directory '" + d.string() + "' is not writable; running without checkpoints");
  return std::nullopt;
}

void CheckpointFlags::tidy(const std::optional<fs::path>& used) const {
  if (!used || !dir.empty() || !resume.empty()) return;
  std::error_code rm;
  fs::remove(*used, rm);  // only succeeds when nothing else is left in it
}

}  // namespace cli
