#pragma once
// AWQ on one decoder block inside the sequential weight-only job: the scale
// search for each of the block's balance groups on the block's output error,
// then the scaled weights rounded.
#include <map>
#include <string>
#include <vector>

#include "libquant/core/tensor.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/jobs/weight_only.hpp"
#include "libquant/methods/int_weight.hpp"

namespace libquant::jobs {

// Searches the scales of block `layer`'s AWQ groups and quantizes its
// linears. `model` must load tensors through `overrides` (name -> f32
// replacement); `inputs` are the block's calibration inputs (left as they
// are). On return `quantized` holds every linear of the block and
// `overrides` their dequantized values plus the smoothed norms (and biases)
// that absorbed 1/s.
void awq_block(const model::TensorSource& src, const model::ModelConfig& cfg, int layer, eval::Transformer& model,
               std::map<std::string, Tensor, std::less<>>& overrides,
               const std::vector<eval::Transformer::Hidden>& inputs, const methods::IntWeightScheme& scheme, int n_grid,
               int64_t search_batches, std::map<std::string, methods::IntWeight>& quantized,
               std::vector<AwqChoice>& choices);

// Tensor of the dequantized weight (same shape as the source tensor).
Tensor dequantized_tensor(const methods::IntWeight& q, const Shape& shape);

}  // namespace libquant::jobs
