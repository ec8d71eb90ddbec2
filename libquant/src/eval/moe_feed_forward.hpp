#pragma once
// The mixture-of-experts FFN (Mixtral, Qwen2-MoE, Qwen3-MoE): a router picks
// each token's top-k experts by softmax, their SwiGLU outputs are summed with
// the (optionally renormalised) router weights, and a shared expert, where
// the family has one, adds its output scaled by sigmoid(its gate).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_source.hpp"
#include "linear_weight.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::eval {

// One layer's expert weights. The router and the shared expert are decoded
// when the layer loads; a routed expert's three matrices only when a token
// first picks it, so a streamed layer decodes only the experts in use.
class MoeWeights {
 public:
  MoeWeights(const model::TensorSource& src, const model::ModelConfig& cfg, int layer, const LinearLoad& how);

  const Tensor& router() const noexcept { return router_; }
  bool has_shared() const noexcept { return shared_gate_.out > 0; }
  const LinearWeight& shared(int which) const noexcept {
    return which == 0 ? shared_gate_ : which == 1 ? shared_up_ : shared_down_;
  }
  const Tensor& shared_gate_inp() const noexcept { return shared_gate_inp_; }
  // Expert e's gate (0), up (1) or down (2) matrix as f32 [rows, cols].
  const LinearWeight& expert(int64_t e, int which) const;

 private:
  const model::TensorSource& src_;
  const model::SourceTensor* stacks_[3] = {nullptr, nullptr, nullptr};
  int64_t rows_[3] = {0, 0, 0}, cols_[3] = {0, 0, 0};    // one expert's matrix in each stack
  decltype(LinearLoad::transform) transform_ = nullptr;  // set only when it holds a function
  mutable std::optional<Tensor> whole_[3];  // with a transform: each stack decoded and transformed as one tensor
  mutable std::vector<std::optional<LinearWeight>> experts_;  // [expert * 3 + which]
  Tensor router_, shared_gate_inp_;
  LinearWeight shared_gate_, shared_up_, shared_down_;
};

// out[N, d] = the MoE FFN of normed input xn[N, d]. Calibration hooks see the
// router's and the shared expert's inputs under their GGUF names, and each
// expert's rows when they ask for experts.
void moe_feed_forward(const MoeWeights& w, const model::ModelConfig& cfg, int layer, const float* xn, int64_t N,
                      float* out, ThreadPool& pool, calib::LinearHook* hook);

}  // namespace libquant::eval
