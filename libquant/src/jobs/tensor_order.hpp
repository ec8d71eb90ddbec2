#pragma once
// Tensor order of llama.cpp's model loader (a std::map keyed by layer, then
// name): tensors outside blocks first, alphabetically, then blk.0.*, blk.1.*...
// llama-quantize writes files in this order, so we do too.
#include <vector>

#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {
std::vector<const model::SourceTensor*> llama_tensor_order(const model::TensorSource& src);
}
