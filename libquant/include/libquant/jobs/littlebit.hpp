#pragma once
// The jobs behind `llm-quantize littlebit compress | info | convert`.
//
// compress: every decoder linear (q, k, v, o, gate, up, down) is factorized
// with LittleBit (methods/littlebit.hpp); embeddings, output and norms are
// kept (2-D ones at `keep_type`, 1-D ones in F32). Layers are processed in
// order: with refinement on, each factorized weight is fitted to its inputs
// in the original model on the calibration text (or, `sequential`, in the
// model whose earlier layers are already compressed). One decoder layer's
// dense weights are in memory at a time; finished layers are checkpointed
// and `resume` skips them.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/methods/littlebit_block.hpp"
#include "libquant/methods/littlebit_refine.hpp"

namespace libquant::jobs {

struct LittleBitCompressOptions {
  std::filesystem::path model;
  std::filesystem::path output;      // the file to write (.littlebit or .gguf)
  std::string format = "littlebit";  // littlebit | gguf-ext | gguf-lossy
  double target_bpw = 0.5;           // within [min_bpw, max_bpw]
  // The accepted target range: the paper's 0.1 .. 2.0 unless a caller widens it for experiments.
  double min_bpw = methods::kLittleBitMinBpw, max_bpw = methods::kLittleBitMaxBpw;
  std::optional<int64_t> rank;  // one rank for every layer instead of the BPW rule
  bool residual = true;
  double kv_factor = 1.0;  // rank multiplier for attn_k / attn_v (the paper's kv_factor)
  bool refine = true;      // activation-aware refinement (false: Dual-SVID only)
  methods::LittleBitRefineOptions refine_options;
  int64_t refine_rows = 2048;  // calibration input rows per weight used by refinement
  uint64_t seed = 0;           // randomized SVD sketches and refinement minibatches
  cpu::SvdOptions svd;         // the initial factorization's SVD (its seed is `seed`)
  // Calibration inputs of layer i from the model whose layers < i are already
  // compressed (GPTQ's sequential scheme) instead of the original model's.
  bool sequential = false;
  // Block-output matching (methods/littlebit_block.hpp) after the per-weight
  // refinement: block_options.steps Adam steps per decoder block on the first
  // `block_samples` calibration sequences, inputs from the compressed model,
  // targets from the original one (smooth_k follows refine_options). 0 steps:
  // off; skipped without refinement (it needs the calibration pass).
  methods::LittleBitBlockOptions block_options{.steps = 40};
  int64_t block_samples = 2;
  std::filesystem::path calibration_data;  // empty: the bundled default text
  int64_t calibration_samples = 16;
  int64_t seq_len = 512;
  DType keep_type = DType::F16;       // 2-D tensors that are not factorized
  std::string lossy_type = "Q4_K_M";  // gguf-lossy: the GGUF type of the reconstruction
  // Quality: perplexity of original and compressed on `validation_data`
  // (empty: the bundled text). With a threshold (percent), layers whose
  // output error is worst get their rank raised and the model is compressed
  // again, up to `max_rank_rounds` times;
  // Error(LittleBitQualityExceeded) when it still fails.
  bool validate = true;
  std::optional<double> quality_threshold;
  int max_rank_rounds = 3;
  std::filesystem::path validation_data;
  int64_t validation_chunks = 8;
  std::optional<std::filesystem::path> checkpoint_dir;
  bool resume = false;
  ProgressHook on_checkpoint;                // after each decoder layer's checkpoint: layers done
  std::map<std::string, double> rank_scale;  // per weight: multiplier on its rule rank (the quality loop's raises)
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
};

struct LittleBitLayerStat {
  std::string name;  // GGUF weight name
  int64_t out = 0, in = 0, rank = 0;
  int paths = 0;
  double bpw = 0;
  double weight_error = 0;        // ||W - W_hat||_F / ||W||_F
  double output_error_init = -1;  // relative squared output error on calibration inputs, Dual-SVID start
  double output_error = -1;       // after refinement
  double block_error_init = -1;   // relative output error of the whole decoder block before block-output matching
  double block_error = -1;        // and after it (the same for the block's seven linears)
  bool resumed = false;
};

struct LittleBitCompressResult {
  std::filesystem::path output_path;
  std::string format, source_model, architecture;
  double target_bpw = 0;
  double achieved_bpw = 0;              // factorized linears, the paper's accounting
  double linear_stored_bpw = 0;         // factorized linears, bytes actually stored (padding included)
  double compression_ratio = 0;         // original file bytes / compressed file bytes
  double linear_reduction_vs_fp16 = 0;  // 16-bit bytes of the linears / their stored bytes
  uint64_t original_size_bytes = 0, compressed_size_bytes = 0;
  double duration_seconds = 0;
  uint64_t peak_memory_bytes = 0;
  bool validated = false;
  double perplexity_original = 0, perplexity_compressed = 0, perplexity_delta_pct = 0;
  bool quality_passed = true;
  int rank_rounds = 0;  // extra compressions the quality loop needed
  std::vector<LittleBitLayerStat> layers;
};

// Throws Error(InvalidBpwRange) for a target outside the range,
// Error(RankSelectionFailed) for a rank no layer can take,
// Error(FactorizationFailed) naming the layer, Error(LittleBitQualityExceeded).
// The option checks littlebit_compress() starts with, for callers that want
// them before doing anything else: Error(InvalidBpwRange, 22) for a target
// outside [min_bpw, max_bpw], Error(InvalidArgument) for an unknown format, a
// quality threshold that is not positive or a keep type other than F16, BF16
// or F32.
LIBQUANT_API void check_littlebit_options(const LittleBitCompressOptions& opts);
LIBQUANT_API LittleBitCompressResult littlebit_compress(const LittleBitCompressOptions& opts);

// `littlebit info`: what the file holds.
struct LittleBitInfo {
  std::filesystem::path file;
  std::string format;  // "littlebit" or "gguf-ext"
  uint32_t format_version = 0;
  std::string source_model, architecture, refinement;
  double target_bpw = 0, achieved_bpw = 0, compression_ratio = 0;
  uint64_t original_size_bytes = 0, compressed_size_bytes = 0;
  int64_t num_layers = 0;
  double average_rank = 0;
  int64_t min_rank = 0, max_rank = 0;
  std::string min_rank_layer, max_rank_layer;
  std::vector<LittleBitLayerStat> layers;
};
LIBQUANT_API LittleBitInfo littlebit_info(const std::filesystem::path& file);

// `littlebit convert`: .littlebit -> gguf-ext (factors kept, GGUF container)
// or gguf-lossy (dense reconstruction quantized to `gguf_type`), or a
// gguf-ext file back to .littlebit.
struct LittleBitConvertOptions {
  std::filesystem::path input, output;
  std::string format;  // littlebit | gguf-ext | gguf-lossy
  std::string gguf_type = "Q4_K_M";
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
};
struct LittleBitConvertResult {
  std::filesystem::path output_path;
  std::string format;
  uint64_t input_size_bytes = 0, output_size_bytes = 0;
};
LIBQUANT_API LittleBitConvertResult littlebit_convert(const LittleBitConvertOptions& opts);

}  // namespace libquant::jobs
