// The quality measurements' JSON records (jobs/result_json.hpp).
#include "libquant/jobs/result_json.hpp"

namespace libquant::jobs {

void write_json(JsonWriter& j, const eval::PerplexityResult& r) {
  j.field("ctx", r.ctx)
      .field("chunks", r.n_chunks)
      .field("n_tokens", r.n_tokens)
      .field("scored_tokens", r.scored_tokens)
      .field("perplexity", r.ppl)
      .field("perplexity_error", r.ppl_error)
      .field("mean_nll", r.mean_nll)
      .field("duration_seconds", r.duration_seconds)
      .field("tokens_per_second", r.tokens_per_second);
  if (!r.has_kl) return;
  const eval::KlStats& k = r.kl;
  j.key("kl_divergence")
      .begin_object()
      .field("mean_kld", k.mean_kld)
      .field("mean_kld_error", k.kld_error)
      .field("max_kld", k.max_kld)
      .field("same_top_p", k.same_top_p)
      .field("same_top_p_error", k.same_top_p_error)
      .field("perplexity_base", k.ppl_base)
      .field("mean_ln_ppl_ratio", k.mean_ln_ratio)
      .field("delta_ppl", r.ppl - k.ppl_base)
      .field("rms_delta_p", k.rms_delta_p)
      .end_object();
}

void write_json(JsonWriter& j, const eval::CoherenceResult& r) {
  j.field("coherence_score", r.score).field("passed", r.passed).key("samples").begin_array();
  for (const auto& s : r.samples)
    j.begin_object()
        .field("prompt", s.prompt)
        .field("continuation", s.continuation)
        .field("distinct_trigrams", s.distinct_trigrams)
        .field("fluency", s.fluency)
        .field("reference_perplexity", s.reference_ppl)
        .field("score", s.score)
        .end_object();
  j.end_array();
}

void write_metrics_json(JsonWriter& j, const QualityReport& r) {
  j.begin_object()
      .field("perplexity_original", r.perplexity_original)
      .field("perplexity_quantized", r.perplexity_quantized)
      .field("perplexity_delta_pct", r.perplexity_delta_pct)
      .field("mean_kld", r.mean_kld)
      .field("mean_kld_error", r.kld_error)
      .field("same_top_p", r.same_top_p)
      .field("file_type", r.type_quantized)
      .field("original_file_type", r.type_original)
      .field("effective_bpw", r.bpw_quantized)
      .field("original_bpw", r.bpw_original)
      .field("file_size", r.size_quantized)
      .field("original_size", r.size_original)
      .field("compression_ratio", r.compression_ratio)
      .field("ctx", r.ctx)
      .field("chunks", r.chunks)
      .field("scored_tokens", r.scored_tokens)
      .end_object();
}

void write_json(JsonWriter& j, const QualityReport& r) {
  j.field("original_model", r.original).field("quantized_model", r.quantized).key("metrics");
  write_metrics_json(j, r);
  j.key("layer_errors").begin_array();
  for (const auto& l : r.layers)
    j.begin_object()
        .field("layer_name", l.layer_name)
        .field("mse", l.mse)
        .field("max_error", l.max_error)
        .field("relative_error", l.relative_error)
        .field("bit_width", l.bit_width)
        .field("mixer", l.mixer)
        .end_object();
  j.end_array();
  if (!r.by_mixer.empty()) {  // with per-layer errors: each mixer kind's mean apart (hybrids)
    j.key("errors_by_mixer").begin_array();
    for (const auto& m : r.by_mixer)
      j.begin_object()
          .field("mixer", m.mixer)
          .field("layers", m.layers)
          .field("mean_relative_error", m.mean_relative_error)
          .end_object();
    j.end_array();
  }
  const KlDistribution& d = r.kld_distribution;
  j.key("kld_distribution")
      .begin_object()
      .field("min", d.min)
      .field("median", d.median)
      .field("p90", d.p90)
      .field("p95", d.p95)
      .field("p99", d.p99)
      .field("p99_9", d.p99_9)
      .field("max", d.max)
      .key("histogram")
      .begin_array();
  for (const auto& b : d.histogram)
    j.begin_object().field("lower", b.lower).field("upper", b.upper).field("tokens", b.tokens).end_object();
  j.end_array().end_object();
  j.key("provenance").begin_object();
  for (const auto& [k, v] : r.provenance) j.field(k, v);
  j.end_object().key("tensors").begin_array();
  for (const auto& t : r.tensors)
    j.begin_object()
        .field("name", t.name)
        .field("type", t.type)
        .field("layer", t.layer)
        .field("parameters", t.parameters)
        .field("bytes", t.bytes)
        .end_object();
  j.end_array().field("duration_seconds", r.duration_seconds);
}

}  // namespace libquant::jobs
