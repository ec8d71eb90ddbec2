#include "libquant/jobs/result_json.hpp"

#include <filesystem>

#include "libquant/core/dtype.hpp"
#include "libquant/gguf/mixture.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

double ratio(uint64_t out, uint64_t in) { return in ? static_cast<double>(out) / static_cast<double>(in) : 0.0; }

// Where the output went, as an absolute path (the record outlives the working directory).
std::string absolute_text(const fs::path& p) { return p.empty() ? std::string() : fs::absolute(p).string(); }

void files_and_notes(JsonWriter& j, const std::vector<fs::path>& files, const std::vector<std::string>& notes) {
  j.key("files").begin_array();
  for (const auto& f : files) j.value(f.string());
  j.end_array();
  j.key("notes").begin_array();
  for (const auto& n : notes) j.value(n);
  j.end_array();
}

void dynamic_allocation(JsonWriter& j, const ConvertToGgufResult& r) {
  j.field("reference_type", r.reference_type)
      .field("target_bytes", r.target_bytes)
      .field("protected_weights", r.protected_weights)
      .field("effective_bpw", r.effective_bpw());
  j.key("layer_summary").begin_array();
  for (const auto& t : r.tensors) {
    if (t.estimated_error < 0) continue;  // outside the allocation (norms, reference-type tensors)
    j.begin_object()
        .field("layer_name", t.name)
        .field("type", std::string(traits(t.type).name))
        .field("bit_width", bits_per_weight(t.type))
        .field("parameter_count", t.shape.numel())
        .field("estimated_error", t.estimated_error)
        .field("is_protected", t.is_protected)
        .field("boosted_weights", t.boosted_weights)
        .end_object();
  }
  j.end_array();
}

void statistics(JsonWriter& j, const ImportanceStatistics& s) {
  j.field("min", s.min).field("max", s.max).field("mean", s.mean).field("std", s.std);
}

const char* checkpoint_format(WeightOnlyLayout l) {
  switch (l) {
    case WeightOnlyLayout::Gptq:
      return "gptq";
    case WeightOnlyLayout::Awq:
      return "awq gemm";
    case WeightOnlyLayout::CompressedTensors:
      break;
  }
  return "compressed-tensors pack-quantized";
}

}  // namespace

void write_json(JsonWriter& j, const ConvertToGgufResult& r, const ResultJsonOptions& o) {
  j.field("output_path", absolute_text(r.output_path))
      .field("format", "gguf")
      .field("quantization_level", r.file_type)
      .field("file_size", r.file_size)
      .field("compression_ratio", ratio(r.file_size, r.original_size))
      .field("duration_seconds", r.duration_seconds)
      .field("peak_memory_bytes", r.peak_memory_bytes)
      .field("validation_status", o.dry_run        ? "not written"
                                  : r.output_valid ? "valid"
                                                   : "invalid")
      .field("resumed_tensors", static_cast<uint64_t>(r.tensors_resumed))
      .field("fallback_tensors", r.fallbacks);
  if (gguf::is_dynamic_type_name(r.file_type)) dynamic_allocation(j, r);
  if (r.gptq_tensors > 0) {
    j.key("gptq")
        .begin_object()
        .field("tensors", r.gptq_tensors)
        .field("improved_tensors", r.gptq_improved)
        .field("median_layer_error_ratio", r.gptq_error_ratio)
        .field("calibration_tokens", r.calibration_tokens);
    j.key("notes").begin_array();
    for (const auto& n : r.notes) j.value(n);
    j.end_array().end_object();
  }
  if (!r.shards.empty()) {
    j.key("output_shards").begin_array();
    for (const auto& s : r.shards) j.value(absolute_text(s));
    j.end_array();
  }
  if (o.dry_run) {
    j.field("dry_run", true).key("notes").begin_array();
    for (const auto& n : r.notes) j.value(n);
    j.end_array();
  }
  j.key("metadata")
      .begin_object()
      .field("original_dtype", r.original_dtype)
      .field("original_size", r.original_size)
      .field("layers_processed", r.layers_processed)
      .field("parameter_count", r.parameter_count)
      .end_object();
  if (!o.per_tensor) return;
  j.key("tensors").begin_array();
  for (const auto& t : r.tensors) {
    j.begin_object()
        .field("name", t.name)
        .field("type", std::string(traits(t.type).name))
        .field("bytes", storage_bytes(t.type, t.shape.numel()))
        .key("shape")
        .begin_array();
    for (int64_t d : t.shape.dims()) j.value(d);
    j.end_array().end_object();
  }
  j.end_array();
}

void write_json(JsonWriter& j, const SmoothQuantJobResult& r) {
  j.field("output_path", absolute_text(r.output))
      .field("format", "smoothquant")
      .field("quantization_level", "W8A8")
      .field("checkpoint_format", "compressed-tensors int-quantized")
      .field("activation_quantization", r.activation_scheme)
      .field("file_size", r.output_bytes)
      .field("compression_ratio", ratio(r.output_bytes, r.original_bytes))
      .field("duration_seconds", r.duration_seconds)
      .field("quantized_linears", r.quantized_linears)
      .field("calibration_samples", r.calibration_samples)
      .field("calibration_tokens", r.calibration_tokens)
      .field("resumed_samples", r.resumed_sequences)
      .field("resumed_plan", r.resumed_plan);
  j.key("smoothing").begin_array();
  for (const auto& s : r.groups) {
    j.begin_object().field("layer", s.group.layer).field("norm", s.group.norm).key("alpha");
    if (s.alpha)
      j.value(*s.alpha);
    else
      j.null();
    if (s.error >= 0) j.field("int8_error", s.error).field("int8_error_unsmoothed", s.error_unsmoothed);
    j.end_object();
  }
  j.end_array();
  j.key("alpha_candidates").begin_array();
  for (const auto& c : r.alpha_candidates)
    j.begin_object().field("candidate", c.name).field("mean_kld", c.kl).end_object();
  j.end_array();
  files_and_notes(j, r.files, r.notes);
}

void write_json(JsonWriter& j, const WeightOnlyJobResult& r) {
  j.field("output_path", absolute_text(r.output))
      .field("format", r.method == WeightOnlyMethod::Awq ? "awq" : "gptq")
      .field("quantization_level", r.scheme)
      .field("checkpoint_format", checkpoint_format(r.layout))
      .field("file_size", r.output_bytes)
      .field("compression_ratio", ratio(r.output_bytes, r.original_bytes))
      .field("duration_seconds", r.duration_seconds)
      .field("quantized_linears", static_cast<int64_t>(r.linears.size()))
      .field("calibration_samples", r.calibration_samples)
      .field("calibration_tokens", r.calibration_tokens);
  j.key("linears").begin_array();
  for (const auto& l : r.linears)
    j.begin_object()
        .field("name", l.name)
        .field("gptq_loss", l.loss)
        .field("damp", l.damp)
        .field("dead_columns", l.dead_columns)
        .end_object();
  j.end_array();
  j.key("awq").begin_array();
  for (const auto& a : r.awq)
    j.begin_object()
        .field("smooth", a.smooth)
        .field("ratio", a.ratio)
        .field("duo_scaling", a.duo)
        .field("block_error", a.error)
        .field("block_error_unscaled", a.error_unscaled)
        .end_object();
  j.end_array();
  files_and_notes(j, r.files, r.notes);
}

void write_json(JsonWriter& j, const ConvertToHfResult& r) {
  j.field("output_path", r.output.string())
      .field("format", "hf")
      .field("torch_dtype", r.torch_dtype)
      .field("tensors", r.tensors)
      .field("input_size_bytes", r.input_bytes)
      .field("output_size_bytes", r.output_bytes)
      .field("duration_seconds", r.duration_seconds);
  files_and_notes(j, r.files, r.notes);
}

void write_json(JsonWriter& j, const ModelInfo& r, const ResultJsonOptions& o) {
  j.field("model_name", r.model_name)
      .field("format", r.format)
      .field("architecture", r.architecture)
      .field("parameter_count", r.parameter_count)
      .field("hidden_size", r.hidden_size)
      .field("num_layers", r.num_layers)
      .field("num_heads", r.num_heads)
      .field("num_kv_heads", r.num_kv_heads)
      .field("vocab_size", r.vocab_size)
      .field("num_experts", r.num_experts)
      .field("num_experts_used", r.num_experts_used)
      .field("ssm_heads", r.ssm_heads)
      .field("ssm_state_size", r.ssm_state_size)
      .field("recurrent_layers", r.recurrent_layers)
      .field("torch_dtype", r.dtype)
      .field("quantization", r.quantization)
      .field("file_size", r.file_size)
      .field("bits_per_weight", r.bits_per_weight);
  if (!r.note.empty()) j.field("note", r.note);
  if (!o.per_tensor) return;
  j.key("tensors").begin_array();
  for (const auto& t : r.tensors) {
    j.begin_object().field("name", t.name).field("type", t.type).key("shape").begin_array();
    for (int64_t d : t.shape.dims()) j.value(d);
    j.end_array().field("bytes", t.nbytes).end_object();
  }
  j.end_array();
}

void write_json(JsonWriter& j, const AnalyzeResult& r) {
  j.field("output_path", absolute_text(r.output_path))
      .field("model_path", r.model.string())
      .field("method", "activation_magnitude")
      .field("num_entries", r.entries)
      .field("chunks", r.chunks)
      .field("resumed_chunks", r.chunks_resumed)
      .field("tokens", r.tokens);
  j.key("global_statistics").begin_object();
  statistics(j, r.global);
  j.end_object();
  j.key("layers").begin_array();
  for (const auto& l : r.layers) {
    j.begin_object().field("name", l.name).field("columns", l.columns);
    statistics(j, l);
    j.field("top_column", l.top_column).end_object();
  }
  j.end_array();
  if (!r.super_weights_path.empty()) {
    j.field("super_weights_path", absolute_text(r.super_weights_path));
    j.key("super_weights").begin_array();
    for (const auto& s : r.super_weights) methods::write_super_weight(j, s);
    j.end_array();
    j.field("protected_weights", r.protected_weights);
  }
  j.field("duration_seconds", r.duration_seconds);
}

void write_json(JsonWriter& j, const QualityGateResult& r) {
  if (r.report)
    j.key("quality_report")
        .begin_object()
        .field("perplexity_original", r.report->perplexity_original)
        .field("perplexity_quantized", r.report->perplexity_quantized)
        .field("perplexity_delta_pct", r.report->perplexity_delta_pct)
        .field("mean_kld", r.report->mean_kld)
        .end_object();
  if (r.coherence) j.field("coherence_score", r.coherence->score);
}

void write_json(JsonWriter& j, const methods::ImatrixStatistics& s) {
  j.key("tensors").begin_array();
  for (const auto& t : s.tensors)
    j.begin_object()
        .field("name", t.name)
        .field("layer", t.layer)
        .field("tensor", t.tensor)
        .field("sum", t.sum)
        .field("min", t.min)
        .field("max", t.max)
        .field("mean", t.mean)
        .field("stddev", t.stddev)
        .field("active", t.active)
        .field("elements", t.elements)
        .field("entropy", t.entropy)
        .field("entropy_norm", t.entropy_norm)
        .field("zd", t.zd)
        .field("cossim", t.cossim)
        .end_object();
  j.end_array().key("layers").begin_array();
  for (const auto& l : s.layers)
    j.begin_object()
        .field("layer", l.layer)
        .field("mean_sum", l.mean_sum)
        .field("zd", l.zd)
        .field("cossim", l.cossim)
        .end_object();
  j.end_array().key("skipped").begin_array();
  for (const auto& name : s.skipped) j.value(name);
  j.end_array();
}

}  // namespace libquant::jobs
