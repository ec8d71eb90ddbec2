#pragma once
// The job behind `quality report ORIGINAL QUANTIZED`: perplexity of both on
// the same chunks, their difference, KL divergence and top-1 agreement of the
// quantized model's next-token distribution against the original's, sizes and
// bits per weight, and (optionally) each decoder layer's output error when
// the quantized layer sees exactly the original's input.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {

struct QualityReportOptions {
  std::filesystem::path original, quantized, data;  // data empty: the bundled default text
  int64_t ctx = 512;
  int64_t chunks = 16;  // chunks of the text evaluated (the contract's calibration samples)
  bool include_layers = false;
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
  static QualityReportOptions defaults() { return {}; }
};

struct LayerError {
  std::string layer_name;  // "model.layers.N" (HF naming, as the contract shows)
  double mse = 0, max_error = 0;
  double relative_error = 0;  // ||y_q - y|| / ||y - x||: error relative to the layer's own update
  double bit_width = 0;       // bits per weight of the quantized layer's tensors
  // How the block mixes tokens: "attention", "linear_attention" (Qwen3.5's gated DeltaNet) or
  // "state_space" (Mamba-2), so that hybrids show each kind's error apart.
  std::string mixer = "attention";
};

// The mean relative error of the blocks of one mixer kind.
struct MixerError {
  std::string mixer;
  int64_t layers = 0;
  double mean_relative_error = 0;
};

// One tensor of the quantized model: how it is stored.
struct TensorStorage {
  std::string name;  // GGUF name
  std::string type;  // ggml type name ("Q4_K", "f16") or safetensors dtype
  int layer = -1;    // decoder block, -1 for the embedding, output and other tensors
  uint64_t parameters = 0, bytes = 0;
};

// How the per-token KL divergence of the output is spread: llama-perplexity's
// order statistics (linear interpolation between ranks, as numpy's default)
// and a histogram over decades.
struct KlDistribution {
  double min = 0, median = 0, p90 = 0, p95 = 0, p99 = 0, p99_9 = 0, max = 0;
  struct Bin {
    double lower = 0, upper = 0;  // [lower, upper); the first bin starts at 0, the last ends at +inf
    int64_t tokens = 0;
  };
  std::vector<Bin> histogram;
};

// The distribution of a set of per-token KL values (empty: all zeros, no bins).
LIBQUANT_API KlDistribution kl_distribution(std::vector<double> kld);

struct QualityReport {
  std::string original, quantized;
  // llama.cpp's name of each file's type ("Q4_K_M", from general.file_type),
  // else the type holding most of its weight bytes ("F32", "BF16").
  std::string type_original, type_quantized;
  // How the quantized file was made, as far as it records it: its
  // general.file_type and quantize.* keys (imatrix file, dataset, chunks).
  std::vector<std::pair<std::string, std::string>> provenance;
  std::vector<TensorStorage> tensors;  // the quantized model's, in file order
  double perplexity_original = 0, perplexity_quantized = 0, perplexity_delta_pct = 0;
  double mean_kld = 0, kld_error = 0, same_top_p = 0;
  KlDistribution kld_distribution;
  uint64_t size_original = 0, size_quantized = 0;
  double bpw_original = 0, bpw_quantized = 0, compression_ratio = 0;
  int64_t ctx = 0, chunks = 0, scored_tokens = 0;
  double duration_seconds = 0;
  std::vector<LayerError> layers;
  std::vector<MixerError> by_mixer;  // with per-layer errors: one entry per mixer kind present
};

LIBQUANT_API QualityReport quality_report(const QualityReportOptions& opts);

// How a model's tensors are stored (file order) and the name of its type, as the report gives them.
LIBQUANT_API std::vector<TensorStorage> tensor_storage(const model::TensorSource& source);
LIBQUANT_API std::string model_type_label(const model::TensorSource& source);

}  // namespace libquant::jobs
