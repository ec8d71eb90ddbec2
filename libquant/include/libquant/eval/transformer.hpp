#pragma once
// A forward pass for Llama-family decoders (Llama 2/3, Mistral, Qwen2 with qkv
// bias, Qwen3 with q/k RMSNorm) in f32 with BLAS GEMMs. Weights come from any
// TensorSource, decoded to f32. In streaming mode only one decoder layer's
// weights are in memory at a time (plus the batch's hidden states), so models
// larger than RAM can be evaluated and calibrated.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/export.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::eval {

struct ForwardOptions {
  bool streaming = true;  // load each layer's weights per call instead of keeping them
  unsigned threads = 0;   // BLAS / worker threads, 0 = all cores
  // Compute every operation as llama.cpp's CPU backend does (AVX-512 build,
  // F16 KV cache, tinyBLAS products, ggml's exp): bit-identical activations
  // for F32 and F16 weights, so importance matrices equal llama-imatrix's.
  // Slower than the BLAS path and no more accurate; for compatibility only.
  bool ggml_numerics = false;
  // Every tensor the pass loads goes through this after decoding to f32 (when
  // set): methods evaluate changed weights (e.g. smoothed) without writing them.
  std::function<Tensor(const model::SourceTensor&, Tensor)> transform;
  // Run the decoder's linears as W8A8 does: weights quantized to int8 per
  // output channel when loaded, inputs per token (compressed-tensors rules).
  bool simulate_w8a8 = false;
};

// Whether ForwardOptions::ggml_numerics covers this model's decoder block
// (Llama / Mistral / Qwen blocks; not sandwich norms, GeGLU or local attention).
LIBQUANT_API bool exact_numerics_supported(const model::ModelConfig& cfg) noexcept;

class LIBQUANT_API Transformer {
 public:
  Transformer(const model::TensorSource& source, ForwardOptions opts = {});
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const model::ModelConfig& config() const noexcept;

  // Runs B sequences of equal length T from position 0 and returns the logits
  // of positions [logits_from, T) of each sequence, row-major
  // [B][T - logits_from][vocab]. `hook` (optional) sees every linear input.
  std::vector<float> forward(const std::vector<std::vector<int32_t>>& batch, int64_t logits_from = 0,
                             calib::LinearHook* hook = nullptr);

  // The same pass in steps, for callers that inspect or share hidden states
  // (per-layer error of a quantized model against the original, calibration).
  struct Hidden {
    int64_t batch = 0, seq = 0;  // B sequences of T tokens
    std::vector<float> h;        // [B*T, hidden_size]
  };
  Hidden embed(const std::vector<std::vector<int32_t>>& batch) const;
  void run_layer(int layer, Hidden& x, calib::LinearHook* hook = nullptr);
  // Applies one layer to several batches with a single load of its weights.
  void run_layer(int layer, const std::vector<Hidden*>& xs, calib::LinearHook* hook = nullptr);
  std::vector<float> logits(const Hidden& x, int64_t logits_from, calib::LinearHook* hook = nullptr);
  // Half a block, for methods that score one sublayer (AWQ): the attention
  // sublayer on the block's input, or the FFN sublayer on the stream after
  // the attention residual. Its output (post-norm applied) is added to each x
  // (add_to_stream: the stream the next half reads) or replaces it (the
  // sublayer's own output). Error(InvalidArgument) for blocks whose attention
  // and FFN read the same input (Command-R) and with ggml_numerics.
  enum class Sublayer { Attention, FeedForward };
  void run_sublayer(int layer, Sublayer part, const std::vector<Hidden*>& xs, bool add_to_stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The configuration a forward pass needs, from an HF config or GGUF metadata.
LIBQUANT_API model::ModelConfig forward_config(const model::TensorSource& source);

}  // namespace libquant::eval
