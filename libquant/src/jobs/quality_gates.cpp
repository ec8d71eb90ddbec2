#include "libquant/jobs/quality_gates.hpp"

#include <cstdio>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"

namespace libquant::jobs {

QualityGateResult run_quality_gates(const QualityGateOptions& o) {
  QualityGateResult g;
  if (o.perplexity) {
    log_info("Computing quality metrics...");
    auto q = QualityReportOptions::defaults();
    q.original = o.original;
    q.quantized = o.output;
    q.data = o.data;
    q.chunks = o.chunks;
    q.threads = o.threads;
    q.progress = o.progress;
    g.report = quality_report(q);
    char line[160];
    std::snprintf(line, sizeof line, "Perplexity: %.3f -> %.3f (%+.1f%%)", g.report->perplexity_original,
                  g.report->perplexity_quantized, g.report->perplexity_delta_pct);
    log_info(line);
    if (g.report->perplexity_delta_pct > o.max_perplexity_rise_pct) {
      std::snprintf(line, sizeof line, "Quantization quality degradation (%.1f%%) exceeds threshold (%.0f%%)",
                    g.report->perplexity_delta_pct, o.max_perplexity_rise_pct);
      throw Error(ErrorCode::QualityDegradation, std::string(line) + "; the file was kept at " + o.output.string(),
                  "Try protecting the super weights (`super_weights`) or a less aggressive `profile`");
    }
  }
  if (o.coherence) {
    eval::CoherenceOptions c;
    c.model = o.output;
    c.reference = o.original;
    c.threshold = o.min_coherence;
    c.threads = o.threads;
    g.coherence = eval::coherence_check(c);
    if (!g.coherence->passed)
      throw Error(ErrorCode::CoherenceFailed,
                  "Model output coherence check failed (score: " + std::to_string(g.coherence->score) +
                      "); the file was kept at " + o.output.string(),
                  "Ultra-low-bit quantization may be too aggressive. Consider Q2_K or dynamic quantization");
  }
  return g;
}

}  // namespace libquant::jobs
