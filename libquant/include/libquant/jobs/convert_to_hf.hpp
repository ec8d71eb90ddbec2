#pragma once
// The job behind `convert MODEL.gguf hf`: a GGUF file as a Hugging Face
// checkpoint directory that transformers loads — every tensor decoded to
// f32 / f16 / bf16 under its HF name (Q/K rows back in HF order, Gemma's
// norms as HF stores them), config.json written from the GGUF metadata in the
// family's transformers layout, tokenizer.model rebuilt from a SentencePiece
// vocabulary. Quantized GGUF types are dequantized exactly (in f32; f16/bf16
// then round).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"

namespace libquant::jobs {

struct ConvertToHfOptions {
  std::filesystem::path input;   // a .gguf file
  std::filesystem::path output;  // checkpoint directory to create
  std::optional<DType> dtype;    // F32, F16 or BF16; nullopt: F32 for all-f32 files, BF16 for bf16 ones, else F16
  bool force = false;            // replace an existing output (else Error(CancelledAfterQualityWarning), exit 9)
  uint64_t max_shard_bytes = 5'000'000'000;  // as transformers' save_pretrained default
  ProgressSink* progress = nullptr;
};

struct ConvertToHfResult {
  std::filesystem::path output;
  std::vector<std::filesystem::path> files;  // everything written, relative to output
  std::string torch_dtype;                   // "float16", ...
  int64_t tensors = 0;
  uint64_t input_bytes = 0, output_bytes = 0;
  std::vector<std::string> notes;  // e.g. no tokenizer files written, and why
  double duration_seconds = 0;
};

// Error(UnsupportedConversion) for inputs that are not GGUF files or families
// without a transformers layout; Error(ValidationFailed) for malformed files.
// Nothing is left at `output` unless the whole checkpoint was written.
LIBQUANT_API ConvertToHfResult convert_gguf_to_hf(const ConvertToHfOptions& opts);

}  // namespace libquant::jobs
