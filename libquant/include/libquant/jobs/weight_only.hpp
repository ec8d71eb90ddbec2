#pragma once
// The job behind `quantize MODEL gptq|awq` (and RTN): weight-only integer
// quantization of every decoder linear (2/3/4/8 bits, groups or channels,
// symmetric or not), written as a compressed-tensors `pack-quantized`
// checkpoint (W4A16 and friends, as llm-compressor writes them) that vLLM,
// transformers + compressed-tensors and our own engine load.
//
// GPTQ runs block by block, as llm-compressor's sequential pipeline: the
// calibration activations pass through block l with its float weights to
// give each linear's Hessian, its linears are quantized, and the activations
// pass through the quantized block to become block l + 1's inputs. Only one
// block's weights are in memory at a time. AWQ runs in the same loop: the
// float pass gives the activation statistics and the reference output, the
// scales are searched on that output, folded, and the block is rounded.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/gptq.hpp"

namespace libquant::jobs {

enum class WeightOnlyMethod { Gptq, Awq, Rtn };

// How the checkpoint stores the integers: compressed-tensors pack-quantized
// (llm-compressor, vLLM), GPTQ's qweight/qzeros/scales/g_idx (AutoGPTQ,
// GPTQModel, transformers) or AutoAWQ's GEMM layout (4-bit, groups). The
// last two keep scales in f16, as those tools do.
enum class WeightOnlyLayout { CompressedTensors, Gptq, Awq };

struct WeightOnlyJobOptions {
  std::filesystem::path model;   // HF directory or GGUF file
  std::filesystem::path output;  // checkpoint directory to create
  WeightOnlyMethod method = WeightOnlyMethod::Gptq;
  WeightOnlyLayout layout = WeightOnlyLayout::CompressedTensors;
  int bits = 4;              // 2, 3, 4 or 8
  int64_t group_size = 128;  // -1: per output channel
  bool symmetric = true;
  methods::ActOrder act_order = methods::ActOrder::None;  // None or Static (Group needs g_idx readers)
  double damp = 0.01;                                     // GPTQ dampening, fraction of the mean Hessian diagonal
  int64_t block = 128;                                    // GPTQ lazy-update block
  int awq_grid = 20;                                      // AWQ: grid points per group
  int64_t awq_search_samples = 16;                        // AWQ: calibration sequences the block error is scored on
  std::filesystem::path calibration_data;                 // empty: the bundled default text
  int64_t calibration_samples = 128;
  int64_t seq_len = 512;
  int64_t batch = 4;  // sequences per forward pass
  uint64_t max_shard_bytes = 5'000'000'000;
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
};

struct WeightOnlyLinear {
  std::string name;  // GGUF name, "blk.0.attn_q.weight"
  double loss = 0;   // GPTQ's error estimate (0 for RTN)
  double damp = 0;   // damping that made the Hessian invertible
  int64_t dead_columns = 0;
};

// One AWQ balance group's choice.
struct AwqChoice {
  std::string smooth;         // the tensor that absorbed 1/s ("blk.0.attn_norm.weight", "blk.0.ffn_up.weight")
  double ratio = 0;           // the grid exponent chosen
  bool duo = false;           // with the weight term
  double error = 0;           // block output MSE at the choice
  double error_unscaled = 0;  // the same without scaling (plain rounding)
  std::vector<float> scales;
};

struct WeightOnlyJobResult {
  std::filesystem::path output;
  WeightOnlyMethod method = WeightOnlyMethod::Gptq;
  WeightOnlyLayout layout = WeightOnlyLayout::CompressedTensors;
  std::vector<std::filesystem::path> files;
  uint64_t original_bytes = 0, output_bytes = 0;
  int64_t calibration_samples = 0, calibration_tokens = 0;
  std::vector<WeightOnlyLinear> linears;
  std::vector<AwqChoice> awq;  // AWQ only
  std::string scheme;          // "W4A16 symmetric, groups of 128"
  std::vector<std::string> notes;
  double duration_seconds = 0;
};

// Throws Error(InvalidArgument) for bad options (a group size that does not
// divide a linear's inputs lists the valid ones), Error(SmoothQuantFailed,
// 14) naming a linear whose Hessian stays singular, Error(CalibrationDataError)
// for unusable text. Nothing is left at `output` unless all was written.
LIBQUANT_API WeightOnlyJobResult quantize_weight_only(const WeightOnlyJobOptions& opts);

}  // namespace libquant::jobs
