#pragma once
// GPTQ (AutoGPTQ / GPTQModel) and AutoAWQ GEMM linear weights: packing the
// integers of a quantized linear into each layout, and decoding them back
// row by row. Layouts (docs/weight-only.md):
//  GPTQ  `qweight` int32 [in*bits/32, out]: each output's values packed
//        densely along the inputs, LSB first; `qzeros` int32
//        [groups, out*bits/32] packed along the outputs, stored minus one
//        (checkpoint_format gptq; gptq_v2 as they are); `scales` f16
//        [groups, out]; `g_idx` int32 [in], each input's group.
//  AWQ   `qweight` int32 [in, out/8]: 4-bit values packed along the outputs
//        in the order 0 2 4 6 1 3 5 7; `qzeros` int32 [in/group, out/8] the
//        same way, as they are; `scales` f16 [in/group, out].
// Values are stored unsigned (q + 2^(bits-1) for our signed integers);
// weight = scale * (q - zero), rounded to the scales' dtype.
#include <cstdint>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/io/gptq_awq_config.hpp"
#include "packed_weight.hpp"

namespace libquant::model {

// One tensor of a packed linear: the module name plus `suffix`.
struct LayoutTensor {
  std::string suffix;
  DType dtype;
  Shape shape;
  std::vector<std::byte> bytes;
};

// The integers of one linear: q [rows, cols] and zero [rows, groups] (empty:
// symmetric) signed in [-2^(bits-1), 2^(bits-1)), scales [rows, groups]
// (already representable in f16: they are written as f16).
struct IntLinear {
  const int8_t* q;
  const float* scales;
  const int8_t* zeros;
  int64_t rows, cols, groups;
  int bits;
};

// Throws Error(InvalidArgument) when the shape does not fit the layout
// (GPTQ: in*bits and out*bits multiples of 32; AWQ: 4 bits, out a multiple
// of 8, groups of the inputs).
std::vector<LayoutTensor> pack_gptq(const IntLinear& w, bool zeros_minus_one);
std::vector<LayoutTensor> pack_awq(const IntLinear& w);

// Why a linear of rows x cols cannot be written in `layout` ("" when it can).
std::string layout_misfit(io::IntCheckpointLayout layout, int64_t rows, int64_t cols, int bits, int64_t group_size);

class GptqAwqWeight final : public QuantizedLinearWeight {
 public:
  // `module` is the HF module name; throws Error(ValidationFailed) naming the
  // tensor for any shape, type or index that does not fit `config`.
  GptqAwqWeight(const io::SafetensorsCheckpoint& ckpt, const std::string& module, const io::GptqAwqConfig& config);
  void decode_row(int64_t r, float* out, Buffers& scratch) const override;
  // The tensors it is made of (not listed on their own).
  static bool is_part(const std::string& hf_name) noexcept;

 private:
  io::SafetensorsCheckpoint::Located qweight_{};
  io::GptqAwqConfig config_;
  DType scale_dtype_ = DType::F16;
  int64_t groups_ = 1, packed_rows_ = 0, packed_cols_ = 0;
  std::vector<float> scales_;   // [groups, rows]
  std::vector<int16_t> zeros_;  // [groups, rows], unsigned values
  std::vector<int32_t> g_idx_;  // [cols]
};

}  // namespace libquant::model
