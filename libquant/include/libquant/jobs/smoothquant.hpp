#pragma once
// The job behind `quantize MODEL smoothquant`: calibration, SmoothQuant
// smoothing (optional) and W8A8 INT8 quantization, written as a
// compressed-tensors checkpoint (config.json with llm-compressor's W8A8
// quantization_config, sharded safetensors, tokenizer files) that vLLM-style
// INT8 engines, the compressed-tensors + transformers stack and our own
// evaluation engine load.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/smoothquant.hpp"

namespace libquant::jobs {

struct SmoothQuantJobOptions {
  std::filesystem::path model;             // HF directory or GGUF file
  std::filesystem::path output;            // checkpoint directory to create
  bool smooth = true;                      // false: naive W8A8
  std::optional<double> alpha = 0.5;       // nullopt: per-group search
  bool static_activations = false;         // per-tensor activation scales instead of dynamic per token
  bool smooth_down = false;                // also smooth down_proj's input (through up_proj)
  std::filesystem::path calibration_data;  // empty: the bundled default text
  int64_t calibration_samples = 512;
  int64_t seq_len = 512;
  int64_t batch = 4;                         // sequences per forward pass
  int64_t search_rows = 512;                 // activation rows per group for --alpha auto
  uint64_t max_shard_bytes = 5'000'000'000;  // as transformers' save_pretrained default
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
  // Checkpoints (none when unset): after every calibration batch and after
  // planning, the statistics and decisions so far go into this directory;
  // `resume` continues from them (CheckpointError when there is no checkpoint
  // of the same job: model, data and every option above must match).
  std::optional<std::filesystem::path> checkpoint_dir;
  bool resume = false;
  ProgressHook on_checkpoint;  // after each checkpoint: calibration sequences done (planning: all + 1)
};

struct SmoothQuantJobResult {
  std::filesystem::path output;
  std::vector<std::filesystem::path> files;  // everything written, relative to output
  uint64_t original_bytes = 0, output_bytes = 0;
  int64_t calibration_samples = 0, calibration_tokens = 0;
  std::vector<methods::GroupPlan> groups;                 // the smoothing decisions
  std::vector<methods::AlphaCandidate> alpha_candidates;  // --alpha auto: whole-model candidates and their KL
  int64_t quantized_linears = 0;
  std::string activation_scheme;   // "dynamic per token" / "static per tensor"
  std::vector<std::string> notes;  // things the user should know (e.g. tokenizer not written)
  int64_t resumed_sequences = 0;   // calibration sequences an interrupted run had done
  bool resumed_plan = false;       // whether the smoothing decisions came from its checkpoint
  double duration_seconds = 0;
};

// Throws Error(SmoothQuantFailed) with the failing layer, Error(InvalidArgument)
// for bad options, Error(CalibrationDataError) for unusable text. Nothing is
// left at `output` unless the whole checkpoint was written.
LIBQUANT_API SmoothQuantJobResult smoothquant_w8a8(const SmoothQuantJobOptions& opts);

}  // namespace libquant::jobs
