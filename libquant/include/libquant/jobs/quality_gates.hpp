#pragma once
// Quality gates on a file a job has just written (what `quantize
// --quality-report / --coherence-check` run): the perplexity of the original
// and the output on the same chunks, and greedy generation scored for
// coherence. A gate that fails throws and keeps the file (it is the caller's
// to keep or delete); the error says where it is.
#include <cstdint>
#include <filesystem>
#include <optional>

#include "libquant/core/progress.hpp"
#include "libquant/eval/coherence.hpp"
#include "libquant/export.hpp"
#include "libquant/jobs/quality_report.hpp"

namespace libquant::jobs {

struct QualityGateOptions {
  std::filesystem::path original, output;
  // Perplexity gate: fails when the output's perplexity is more than
  // `max_perplexity_rise_pct` percent above the original's.
  bool perplexity = false;
  double max_perplexity_rise_pct = 20.0;
  std::filesystem::path data;  // empty: the bundled default text
  int64_t chunks = 8;
  // Coherence gate: fails when the mean coherence score is below `min_coherence`.
  bool coherence = false;
  double min_coherence = 0.5;
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
};

struct QualityGateResult {
  std::optional<QualityReport> report;             // with the perplexity gate
  std::optional<eval::CoherenceResult> coherence;  // with the coherence gate
};

// Runs the gates asked for, in order. Throws Error(QualityDegradation, 11) or
// Error(CoherenceFailed, 12) naming the kept file.
LIBQUANT_API QualityGateResult run_quality_gates(const QualityGateOptions& opts);

}  // namespace libquant::jobs
