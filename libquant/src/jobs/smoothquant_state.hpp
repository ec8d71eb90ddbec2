#pragma once
// The partial state of an interrupted SmoothQuant job, kept in one
// safetensors file next to its checkpoint record: the calibration statistics
// after the last whole batch and, once decided, the smoothing plan. Floats are
// stored as tensors (bit-exact), the rest as the file's string metadata.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "libquant/calib/channel_max.hpp"
#include "libquant/methods/smoothquant.hpp"

namespace libquant::jobs::smoothquant_state {

struct Saved {
  uint64_t sequences = 0;  // calibration sequences folded into `stats`
  calib::ChannelMaxCollector::State stats;
  // The decisions (present once planning finished), in the quantizer's
  // group order: the groups' alpha, scales and errors filled in.
  std::optional<std::vector<methods::GroupPlan>> plan;
  std::vector<methods::AlphaCandidate> candidates;
};

// Writes `file` atomically. `plan` null: calibration still running.
void save(const std::filesystem::path& file, uint64_t sequences, const calib::ChannelMaxCollector& stats,
          const std::vector<methods::GroupPlan>* plan, const std::vector<methods::AlphaCandidate>* candidates);

// Reads what save() wrote; `groups` are the quantizer's groups before
// planning (the plan's groups are taken from them, matched by norm name).
// Throws Error(CheckpointError) naming what does not fit.
Saved load(const std::filesystem::path& file, const std::vector<methods::GroupPlan>& groups);

}  // namespace libquant::jobs::smoothquant_state
