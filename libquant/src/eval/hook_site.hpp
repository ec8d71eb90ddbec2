#pragma once
// Where a forward pass shows a linear layer's input to a calibration hook:
// the block, and for a mixture-of-experts stack the expert (internal).
#include <cstdint>
#include <string>

#include "libquant/calib/linear_hook.hpp"

namespace libquant::eval {

struct HookSite {
  calib::LinearHook* hook = nullptr;  // null: nothing is reported
  int layer = -1;                     // -1: the output matrix (named without a block prefix)
  int expert = -1, n_experts = 0;     // an expert's rows: shown only to hooks that want experts

  // Reports x[rows, cols] as the input of `what` ("attn_q.weight" -> "blk.<layer>.attn_q.weight").
  void input(const char* what, const float* x, int64_t rows, int64_t cols) const {
    if (!hook || (expert >= 0 && !hook->wants_experts())) return;
    const std::string name = layer >= 0 ? "blk." + std::to_string(layer) + "." + what : std::string(what);
    calib::LinearInput in{layer, name, x, rows, cols};
    in.expert = expert;
    in.n_experts = n_experts;
    hook->on_input(in);
  }
};

}  // namespace libquant::eval
