#pragma once
// The JSON records of the jobs' results: what `llm-quantize ... --format json`
// prints (docs/cli.md lists the fields), for programs that embed the library
// and want the same record. write_json() adds a result's fields to an object
// already open in `j`, so that a caller can add its own next to them (the CLI
// adds "status" and the quality gates' fields); to_json() is the record alone.
#include <string>

#include "libquant/core/json_writer.hpp"
#include "libquant/eval/coherence.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/export.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/convert_to_hf.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "libquant/jobs/model_info.hpp"
#include "libquant/jobs/quality_report.hpp"
#include "libquant/jobs/quality_gates.hpp"
#include "libquant/jobs/smoothquant.hpp"
#include "libquant/jobs/weight_only.hpp"
#include "libquant/methods/activation_statistics.hpp"

namespace libquant::jobs {

struct ResultJsonOptions {
  // Per-tensor lists as well: a GGUF's every tensor (name, type, shape), a
  // LittleBit file's every factorized layer.
  bool per_tensor = false;
  // The result of plan_gguf: "validation_status" is "not written", and
  // "dry_run": true with the plan's notes.
  bool dry_run = false;
};

// `quantize MODEL gguf`: the file, its size and ratio to the input, the
// validation, resumed and fallback tensors, the -q dynamic allocation
// (reference type, budget, effective bits per weight, per-tensor choices).
LIBQUANT_API void write_json(JsonWriter& j, const ConvertToGgufResult& r, const ResultJsonOptions& o = {});
// `quantize MODEL smoothquant`: the checkpoint, its activation scheme, the
// smoothing decisions and the search's candidates.
LIBQUANT_API void write_json(JsonWriter& j, const SmoothQuantJobResult& r);
// `quantize MODEL gptq|awq`: the checkpoint, its scheme and layout, GPTQ's
// per-linear losses and AWQ's per-group choices.
LIBQUANT_API void write_json(JsonWriter& j, const WeightOnlyJobResult& r);
// `convert GGUF hf`: the checkpoint directory, its dtype, files and notes.
LIBQUANT_API void write_json(JsonWriter& j, const ConvertToHfResult& r);
// `info`: what the checkpoint is (per tensor with `per_tensor`).
LIBQUANT_API void write_json(JsonWriter& j, const ModelInfo& r, const ResultJsonOptions& o = {});
// `analyze`: the importance matrix's statistics, global and per weight, and
// the super weights found.
LIBQUANT_API void write_json(JsonWriter& j, const AnalyzeResult& r);
// `analyze --show-statistics`: "tensors", "layers" and "skipped" as in ImatrixStatistics.
LIBQUANT_API void write_json(JsonWriter& j, const methods::ImatrixStatistics& s);
// `littlebit compress`: sizes, bits per weight, the quality loop's
// perplexities and every layer's rank, bits and errors.
LIBQUANT_API void write_json(JsonWriter& j, const LittleBitCompressResult& r);
// `littlebit info`: the file's header and rank statistics (per layer with
// `per_tensor`).
LIBQUANT_API void write_json(JsonWriter& j, const LittleBitInfo& r, const ResultJsonOptions& o = {});
// `littlebit convert`: the converted file and both sizes.
LIBQUANT_API void write_json(JsonWriter& j, const LittleBitConvertResult& r);
// `quality perplexity`: the estimate, its error, speed and (against a
// --kl-base file) the KL divergence statistics.
LIBQUANT_API void write_json(JsonWriter& j, const eval::PerplexityResult& r);
// `quality coherence`: the score, the verdict and every prompt's continuation.
LIBQUANT_API void write_json(JsonWriter& j, const eval::CoherenceResult& r);
// `quality report`: both models, the metrics, per-layer errors (and their
// means per mixer kind in hybrids).
LIBQUANT_API void write_json(JsonWriter& j, const QualityReport& r);
// The report's "metrics" object alone (a value: `compare` lists one per file).
LIBQUANT_API void write_metrics_json(JsonWriter& j, const QualityReport& r);
// The after-writing gates that ran: "quality_report" {perplexity_original,
// perplexity_quantized, perplexity_delta_pct, mean_kld}, "coherence_score".
LIBQUANT_API void write_json(JsonWriter& j, const QualityGateResult& r);

template <typename Result>
std::string to_json(const Result& r) {
  JsonWriter j(2);
  j.begin_object();
  write_json(j, r);
  j.end_object();
  return j.str();
}

}  // namespace libquant::jobs
