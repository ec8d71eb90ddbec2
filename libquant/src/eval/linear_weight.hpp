#pragma once
// A linear layer's weights as the forward pass uses them: f32; int8 with
// per-channel scales for W8A8 compressed-tensors checkpoints, whose inputs
// are then quantized to int8 too (dynamic per token, or static per tensor)
// and multiplied by the int8 GEMM, as an INT8 engine runs them; or the
// packed binary factors of a .littlebit file, run without reconstruction.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libquant/core/tensor.hpp"
#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::eval {

struct LinearWeight {
  Tensor w;                                              // f32 [out, in]; empty when int8
  std::vector<int8_t> q;                                 // int8 [out, in]
  std::vector<float> scale;                              // per output channel
  float input_scale = 0;                                 // static per-tensor activation scale; 0 = dynamic per token
  std::shared_ptr<const cpu::LittleBitFactors> factors;  // LittleBit: packed signs and scales
  int64_t out = 0, in = 0;
  bool is_int8() const noexcept { return !q.empty(); }
};

struct LinearLoad {
  const io::CompressedTensorsConfig* quant = nullptr;  // the checkpoint's compressed-tensors config, if any
  const std::function<Tensor(const model::SourceTensor&, Tensor)>* transform = nullptr;  // applied to f32 weights
  bool simulate_w8a8 = false;  // quantize f32 weights to int8 per channel (and run inputs in int8)
};

// The tensor named `gguf_name`; Error(ValidationFailed) when the model has none.
const model::SourceTensor& require_tensor(const model::TensorSource& src, const std::string& gguf_name);

// Loads `gguf_name` ("blk.0.attn_q.weight"). With a W8A8 scheme for the
// module and int8 weights on disk, keeps them int8; otherwise decodes to f32
// (int8 weights multiplied by their scales), transforms, and quantizes when
// simulating W8A8.
LinearWeight load_linear(const model::TensorSource& src, const std::string& gguf_name, const LinearLoad& how);

// y[n, out] = x[n, in] W^T (+ bias): BLAS for f32, the int8 GEMM for W8A8.
void apply_linear(const LinearWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);

}  // namespace libquant::eval
