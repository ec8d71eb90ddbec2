#pragma once
// The job behind `llm-quantize quantize MODEL gguf -q TYPE`: stream an HF
// checkpoint or a GGUF file into a GGUF file of any llama-quantize file type
// (F16, Q8_0, Q4_K_M, IQ4_XS, ...), one tensor at a time, with llama.cpp's
// per-tensor type rules, tensor order and metadata. For an F32/F16 GGUF input
// the output is byte-identical to llama-quantize's. Peak memory is bounded by
// the largest tensor; progress is checkpointed per tensor so that a killed
// run resumes to the same bytes.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/export.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/methods/quant_profile.hpp"

namespace libquant::jobs {

// `-q dynamic`: types per tensor allocated under a size budget (see
// methods/dynamic_quantizer.hpp). One of the two targets is required.
struct DynamicQuantOptions {
  std::optional<double> target_bpw;           // over all parameters of the model, whole file
  std::optional<uint64_t> target_size_bytes;  // whole file
  std::vector<DType> candidates;              // empty: methods::default_dynamic_candidates()
  int64_t sample_rows = 256;                  // rows per tensor whose error is measured (evenly spaced)
  // How a tensor's error counts: "absolute" takes the expected squared error
  // it adds to its layer's output as it is; "relative" divides it by the
  // tensor's importance-weighted energy sum_j imp_j w_ij^2 (noise-to-signal).
  // On SmolLM2-135M absolute did better at the IQ2_M budget, relative
  // slightly better at Q4_K_M's (docs/dynamic-quantization.md).
  std::string error_metric = "absolute";
  // KL refinement: with kl_tokens > 0, every allocatable weight is quantized
  // alone to its smallest candidate and the mean KL divergence of the model's
  // next-token distribution on the first kl_tokens tokens of the bundled text
  // (or kl_data) is measured; the weight's damage is then that KL scaled by
  // each type's error relative to the smallest type's (error_metric unused).
  int64_t kl_tokens = 0;
  std::filesystem::path kl_data;
};

// `--gptq`: GPTQ error feedback with the GGUF codecs (methods/gptq_codec.hpp).
// The decoder linears' types are decided as without it; then calibration
// text runs through the model block by block (each block on its already
// quantized predecessors' outputs) and every linear is swept with its type's
// codec, its imatrix entry as the codec's importance and the Hessian of its
// inputs for the error feedback. Other tensors are quantized as usual.
struct GgufGptqOptions {
  std::filesystem::path calibration_data;  // empty: the bundled default text
  int64_t calibration_samples = 512;       // as GPTQ's weight-only job (and llm-compressor)
  int64_t seq_len = 512;
  int64_t batch = 4;  // sequences per forward pass
  // Added to H's diagonal, as a fraction of its mean. Stronger than GPTQ's
  // usual 0.01: the GGUF codecs fit their scales to the updated weights, and
  // on SmolLM2-135M (Q3_K_M) and stories260K (Q4_0) 0.01 and 0.1 lost to the
  // codecs alone where 0.3 won (docs/gguf-gptq.md).
  double damp = 0.3;
};

struct ConvertToGgufOptions {
  std::filesystem::path input;
  std::filesystem::path output;                // the .gguf file to write
  std::string file_type = "F16";               // llama-quantize name: F16, Q8_0, Q4_K_M, IQ2_XS, ... or "dynamic"
  std::optional<DynamicQuantOptions> dynamic;  // file_type "dynamic": the size target (or the profile's)
  // file_type "dynamic": rules give their types to the tensors they match
  // (pinned); without a target the default type covers the rest, with one
  // the rest is allocated.
  std::optional<methods::QuantProfile> profile;
  // --protect-super-weights (needs an imatrix): tensors holding a super weight
  // of this file are given at least `protection_min_bits` bits per weight (in
  // the -q dynamic allocation), and the top `protection_coverage` of every
  // weight by saliency |w| sqrt(imatrix) is quantized with `protection_boost`
  // x its column importance in its row, so the encoders fit those values first.
  std::optional<std::filesystem::path> super_weights;
  double protection_coverage = 0.0001;
  double protection_min_bits = 3.4;
  float protection_boost = 100.0f;
  unsigned threads = 0;              // 0 = all cores
  ProgressSink* progress = nullptr;  // null = silent
  std::string model_name;            // general.name for HF input (default: directory name)

  // llama-quantize options.
  std::optional<std::filesystem::path> imatrix;  // legacy .dat or GGUF imatrix
  // Only the imatrix entries whose names contain one of these (include) or
  // none of them (exclude) are used, as llama-quantize's --include-weights /
  // --exclude-weights; not both. An imatrix left empty counts as none given.
  std::vector<std::string> imatrix_include;
  std::vector<std::string> imatrix_exclude;
  bool leave_output_tensor = false;
  bool pure = false;
  bool allow_requantize = false;
  std::optional<DType> output_tensor_type;
  std::optional<DType> token_embedding_type;
  std::vector<std::pair<std::string, DType>> tensor_types;  // REGEX=TYPE, first match wins
  // Blocks left out of the output, the others renumbered in order and
  // `block_count` set to match (llama-quantize's --prune-layers; importance
  // data is still looked up under the original block). Not with dynamic,
  // profile, super_weights or gptq, which measure the unpruned model.
  std::vector<int> prune_layers;
  // A split GGUF input stays split (llama-quantize --keep-split): one output
  // file per input shard, "<output stem>-00001-of-0000N.gguf", ..., each with
  // that shard's tensors in their order there (which the mixture rules then
  // follow, as llama-quantize's do). Written without checkpoints; every file
  // appears at the end.
  bool keep_split = false;
  // Metadata set in the output after the input's, before the imatrix
  // provenance keys (as ggml's gguf_set_val: a key already there moves last).
  std::vector<io::GgufKv> metadata_overrides;

  std::optional<GgufGptqOptions> gptq;  // GPTQ error feedback (not with super-weight protection)

  // Checkpoints: with a directory, the output is assembled there and each
  // finished tensor is recorded; `resume` continues a matching earlier run.
  std::optional<std::filesystem::path> checkpoint_dir;
  bool resume = false;
  // After each piece of tensor data reaches the output: bytes of tensor data
  // this run has written (between checkpoints, so a crash test stopping here
  // leaves a partial tensor after the last recorded one).
  ProgressHook on_data_written;

  static ConvertToGgufOptions defaults() { return {}; }
};

struct ConvertedTensor {
  std::string name;
  DType type;
  Shape shape;
  double estimated_error = -1;  // -q dynamic: importance-weighted squared error (-1: not allocated)
  bool profile_rule = false;    // -q dynamic: the type came from a profile rule
  bool is_protected = false;    // holds a super weight (--protect-super-weights)
  int64_t boosted_weights = 0;  // weights quantized with boosted importance
};

struct ConvertToGgufResult {
  std::filesystem::path output_path;
  std::string file_type;      // as asked: "Q4_K_M", "dynamic", ...
  bool output_valid = false;  // the written file parsed back with every tensor (convert_to_gguf only)
  uint64_t file_size = 0;
  uint64_t original_size = 0;  // bytes of tensor data in the input
  std::string original_dtype;
  double duration_seconds = 0;
  uint64_t peak_memory_bytes = 0;  // peak RSS of the process
  int64_t layers_processed = 0;
  uint64_t parameter_count = 0;
  size_t tensors_resumed = 0;      // tensors an earlier run had finished
  int fallbacks = 0;               // tensors whose rows did not fit the chosen type
  bool needs_importance = false;   // plan_gguf: some tensor needs importance data the run does not have
  std::string reference_type;      // -q dynamic: the mixture followed outside the blocks
  uint64_t target_bytes = 0;       // -q dynamic: the whole-file budget
  int64_t protected_weights = 0;   // --protect-super-weights: weights given boosted importance
  int64_t gptq_tensors = 0;        // --gptq: linears swept
  int64_t gptq_improved = 0;       // --gptq: of those, linears written from the sweep (the rest: the codec's own
                                   // encoding had the smaller output error on the calibration inputs)
  double gptq_error_ratio = 1;     // --gptq: median over the swept linears of that error, sweep / codec alone
  int64_t calibration_tokens = 0;  // --gptq: tokens the Hessians were collected on
  std::vector<std::string> notes;  // things the user should know (e.g. fewer calibration samples than asked)
  std::vector<ConvertedTensor> tensors;
  std::vector<std::filesystem::path> shards;  // keep_split: every file written (output_path is the first)

  // The whole file's bits per weight: 8 x file_size / parameter_count (0 without parameters).
  double effective_bpw() const noexcept {
    return parameter_count ? 8.0 * static_cast<double>(file_size) / static_cast<double>(parameter_count) : 0.0;
  }
};

LIBQUANT_API ConvertToGgufResult convert_to_gguf(const ConvertToGgufOptions& opts);

// Everything convert_to_gguf would decide (types, -q dynamic allocation) with
// nothing written: output_path stays empty, file_size is the exact size the
// file would have, duration and memory are not measured.
LIBQUANT_API ConvertToGgufResult plan_gguf(const ConvertToGgufOptions& opts);

}  // namespace libquant::jobs
