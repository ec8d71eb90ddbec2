#pragma once
// Calibration hooks: during a forward pass, every linear layer's input
// activations are shown to a hook before the matrix product. imatrix,
// SmoothQuant, GPTQ, AWQ and LittleBit collect their statistics here.
#include <cstdint>
#include <string_view>

#include "libquant/export.hpp"

namespace libquant::calib {

struct LinearInput {
  int layer;                // decoder block, -1 for the output matrix
  std::string_view weight;  // GGUF weight name, e.g. "blk.3.attn_q.weight"
  const float* x;           // rows x cols, row-major: one row per token
  int64_t rows;
  int64_t cols;  // = the weight's input dimension
  // Mixture of experts: the rows one expert of a stacked weight
  // ("blk.3.ffn_up_exps.weight") receives, shown only to hooks that want
  // experts; -1 for every other weight.
  int expert = -1;
  int n_experts = 0;
};

// A linear layer's result, shown to hooks that ask for outputs.
struct LinearOutput {
  int layer;
  std::string_view weight;
  const float* y;  // rows x cols, row-major: one row per token
  int64_t rows;
  int64_t cols;  // = the weight's output dimension
};

class LIBQUANT_API LinearHook {
 public:
  virtual ~LinearHook() = default;
  virtual void on_input(const LinearInput& in) = 0;
  // Whether the output matrix's input should be reported too (off by default,
  // as llama-imatrix without --process-output).
  virtual bool wants_output_layer() const { return false; }
  // The output of every block's ffn_down (mlp.down_proj), when the hook asks
  // for it: where super weights show as activation spikes.
  virtual bool wants_outputs() const { return false; }
  // Whether the inputs of each expert of a mixture-of-experts layer should be
  // reported (LinearInput::expert); hooks that do not handle experts never see them.
  virtual bool wants_experts() const { return false; }
  virtual void on_output(const LinearOutput&) {}
};

}  // namespace libquant::calib
