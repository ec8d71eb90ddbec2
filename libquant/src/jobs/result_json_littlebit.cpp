// The LittleBit jobs' JSON records (jobs/result_json.hpp).
#include <algorithm>

#include "libquant/jobs/result_json.hpp"

namespace libquant::jobs {

namespace {

void layer(JsonWriter& j, const LittleBitLayerStat& l) {
  j.begin_object()
      .field("name", l.name)
      .field("rows", l.out)
      .field("cols", l.in)
      .field("rank", l.rank)
      .field("paths", l.paths)
      .field("bpw", l.bpw)
      .field("weight_error", l.weight_error);
  // Errors of the refinement steps that ran (-1: the step did not run).
  if (l.output_error_init >= 0) j.field("output_error_init", l.output_error_init);
  if (l.output_error >= 0) j.field("output_error", l.output_error);
  if (l.block_error >= 0) j.field("block_error_init", l.block_error_init).field("block_error", l.block_error);
  j.end_object();
}

}  // namespace

void write_json(JsonWriter& j, const LittleBitCompressResult& r) {
  j.field("output_path", r.output_path.string())
      .field("format", r.format)
      .field("source_model", r.source_model)
      .field("target_bpw", r.target_bpw)
      .field("achieved_bpw", r.achieved_bpw)
      .field("compression_ratio", r.compression_ratio)
      .field("original_size_bytes", r.original_size_bytes)
      .field("compressed_size_bytes", r.compressed_size_bytes)
      .field("linear_stored_bpw", r.linear_stored_bpw)
      .field("linear_reduction_vs_fp16", r.linear_reduction_vs_fp16)
      .field("duration_seconds", r.duration_seconds)
      .field("peak_memory_bytes", r.peak_memory_bytes);
  if (r.validated)
    j.key("quality_metrics")
        .begin_object()
        .field("perplexity_original", r.perplexity_original)
        .field("perplexity_compressed", r.perplexity_compressed)
        .field("perplexity_delta_pct", r.perplexity_delta_pct)
        .field("quality_passed", r.quality_passed)
        .field("rank_rounds", r.rank_rounds)
        .end_object();
  double min_bpw = r.layers.empty() ? 0.0 : r.layers.front().bpw, max_bpw = 0, rank_sum = 0;
  for (const auto& l : r.layers) {
    min_bpw = std::min(min_bpw, l.bpw);
    max_bpw = std::max(max_bpw, l.bpw);
    rank_sum += static_cast<double>(l.rank);
  }
  j.key("per_layer_summary")
      .begin_object()
      .field("total_layers", static_cast<uint64_t>(r.layers.size()))
      .field("average_rank", r.layers.empty() ? 0.0 : rank_sum / static_cast<double>(r.layers.size()))
      .field("min_bpw", min_bpw)
      .field("max_bpw", max_bpw)
      .end_object();
  j.key("layers").begin_array();
  for (const auto& l : r.layers) layer(j, l);
  j.end_array();
}

void write_json(JsonWriter& j, const LittleBitInfo& r, const ResultJsonOptions& o) {
  j.field("file_path", r.file.string())
      .field("format", r.format)
      .field("format_version", static_cast<uint64_t>(r.format_version))
      .field("source_model", r.source_model)
      .field("architecture", r.architecture)
      .field("refinement", r.refinement)
      .field("target_bpw", r.target_bpw)
      .field("achieved_bpw", r.achieved_bpw)
      .field("compression_ratio", r.compression_ratio)
      .field("original_size_bytes", r.original_size_bytes)
      .field("compressed_size_bytes", r.compressed_size_bytes)
      .field("num_layers", r.num_layers);
  j.key("layer_stats")
      .begin_object()
      .field("average_rank", r.average_rank)
      .field("min_rank", r.min_rank)
      .field("max_rank", r.max_rank)
      .end_object();
  if (!o.per_tensor) return;
  j.key("layers").begin_array();
  for (const auto& l : r.layers) layer(j, l);
  j.end_array();
}

void write_json(JsonWriter& j, const LittleBitConvertResult& r) {
  j.field("output_path", r.output_path.string())
      .field("format", r.format)
      .field("input_size_bytes", r.input_size_bytes)
      .field("output_size_bytes", r.output_size_bytes);
}

}  // namespace libquant::jobs
