#pragma once
// Writing a Hugging Face checkpoint from any tensor source (the W8A8 and
// `convert ... hf` jobs): HF names, rows back in HF's Q/K order, Gemma's
// norms as HF stores them, config.json (the input's, or written from GGUF
// metadata) and the tokenizer files.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/atomic_directory.hpp"
#include "libquant/core/dtype.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs::hf_output {

// Refuses (UnsupportedConversion) models whose HF checkpoints `job` cannot
// write: families without an HF layout here, mixtures of experts,
// state-space and linear-attention models (their layers are not the attention + FFN block the HF
// writers and the SmoothQuant / GPTQ / AWQ passes know).
void require_transformer_blocks(const model::ModelConfig& cfg, const std::string& job);

// Tensors HF keeps in config.json instead (RoPE frequency factors).
bool config_only_tensor(const std::string& gguf_name) noexcept;

// The HF name of a GGUF-named tensor; Error(UnsupportedConversion) when it has none.
std::string hf_name_of(const std::string& gguf_name, const model::ArchitectureInfo* arch);

// The float dtype an HF checkpoint made from `src` keeps its unquantized
// tensors and scales in: the HF config's torch_dtype or the GGUF embedding's
// type when it is F16/BF16, else F32.
DType checkpoint_dtype(const model::TensorSource& src, const model::ModelConfig& cfg);

// n floats encoded as dt (F32, F16 or BF16).
std::vector<std::byte> encode_floats(const float* v, size_t n, DType dt);

// Rows back from GGUF's interleaved Q/K order to HF's (a no-op for other tensors and families).
std::vector<std::byte> to_hf_rows(std::vector<std::byte> data, const std::string& gguf_name, int64_t rows,
                                  const model::ModelConfig& cfg);

// A float tensor (f32 values as the forward pass uses them) as HF stores it:
// Gemma's norms minus one, encoded as dt, Q/K rows in HF order.
std::vector<std::byte> hf_float_bytes(Tensor f32, const model::SourceTensor& t, const model::ModelConfig& cfg,
                                      DType dt);

// config.json text: the HF input's own, else written from the GGUF metadata
// (with Phi-3's LongRoPE factors from its tensors) for torch dtype dt.
std::string config_json_for(const model::TensorSource& src, const model::ModelConfig& cfg, DType dt);

// Tokenizer files into dir: copied from an HF checkpoint or rebuilt from a GGUF
// SentencePiece vocabulary; otherwise a note saying why none were written.
std::optional<std::string> write_tokenizer(const model::TensorSource& src, const std::filesystem::path& dir);

void write_text(const std::filesystem::path& p, const std::string& s);

// The calibration sequences a checkpoint job runs (tokenized with the model's
// own tokenizer); a note when the text gave fewer than asked.
std::vector<std::vector<int32_t>> calibration_samples(const model::TensorSource& src, const std::filesystem::path& text,
                                                      int64_t samples, int64_t seq_len,
                                                      std::vector<std::string>& notes);

// Finishes a quantized checkpoint in `out`'s staging directory:
// config.json (the model's, with `qc`), the tokenizer files (or a note), the
// notes logged as warnings, then the directory committed.
struct CommittedCheckpoint {
  std::vector<std::filesystem::path> files;  // relative to the output directory
  uint64_t original_bytes = 0, output_bytes = 0;
};
CommittedCheckpoint commit_checkpoint(AtomicDirectory& out, const model::TensorSource& src,
                                      const model::ModelConfig& cfg, DType dt, const io::CompressedTensorsConfig& qc,
                                      std::vector<std::string>& notes);
// The same with any quantization_config object from `write_qc` (GPTQ, AWQ).
CommittedCheckpoint commit_checkpoint(AtomicDirectory& out, const model::TensorSource& src,
                                      const model::ModelConfig& cfg, DType dt,
                                      const std::function<void(JsonWriter&)>& write_qc,
                                      std::vector<std::string>& notes);

}  // namespace libquant::jobs::hf_output
