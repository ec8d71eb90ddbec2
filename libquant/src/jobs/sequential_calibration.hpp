#pragma once
// GPTQ's sequential scheme, shared by the weight-only job and GGUF's --gptq:
// calibration activations carried through the model block by block, where a
// block runs with its linears replaced by their quantized versions, so each
// block is quantized from the inputs the quantized model will really give it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/methods/gptq.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {

class SequentialCalibration {
 public:
  // The samples' token ids embedded `batch` at a time (layer streaming on).
  SequentialCalibration(const model::TensorSource& src, const std::vector<std::vector<int32_t>>& samples, int64_t batch,
                        unsigned threads);

  eval::Transformer& model() { return *model_; }
  // The current block's inputs, one per batch.
  std::vector<eval::Transformer::Hidden>& inputs() { return hidden_; }
  // Tensors the forward pass reads instead of the stored ones (same size),
  // e.g. the current block's quantized weights.
  std::map<std::string, Tensor, std::less<>>& overrides() { return overrides_; }

  // Runs `layer` over a copy of the inputs, reporting every linear input to `hook`.
  void observe(int layer, calib::LinearHook& hook);
  // Runs `layer` (with the overrides) over the inputs: the next block's inputs.
  void advance(int layer);

 private:
  std::map<std::string, Tensor, std::less<>> overrides_;
  std::unique_ptr<eval::Transformer> model_;
  std::vector<eval::Transformer::Hidden> hidden_;
};

// GPTQ's Hessians and inverse Hessians for one block's linears: one per
// distinct input (q/k/v and gate/up share theirs), built on first use from
// the collector and dropped after the input's last linear.
class BlockInverses {
 public:
  BlockInverses(const methods::HessianCollector& hc, const std::vector<std::string>& weights,
                const methods::GptqOptions& opts);
  // Both throw Error(SmoothQuantFailed) when the forward pass never reached the weight.
  const std::vector<double>& hessian(const std::string& weight);
  const methods::GptqInverse& get(const std::string& weight, int64_t cols);
  // The weight is done: its input's Hessian and inverse go when no other weight needs them.
  void done(const std::string& weight);

 private:
  struct Input {
    std::vector<double> h;
    std::optional<methods::GptqInverse> inverse;
  };
  Input& input_of(const std::string& weight);
  const methods::HessianCollector& hc_;
  const methods::GptqOptions& opts_;
  std::map<std::string, int> users_;
  std::map<std::string, Input> inputs_;
};

}  // namespace libquant::jobs
