#include "tensor_order.hpp"

#include <algorithm>

#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs {

std::vector<const model::SourceTensor*> llama_tensor_order(const model::TensorSource& src) {
  std::vector<const model::SourceTensor*> order;
  for (const auto& t : src.tensors()) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const int la = model::gguf_layer_index(a->name).value_or(-1);
    const int lb = model::gguf_layer_index(b->name).value_or(-1);
    return la != lb ? la < lb : a->name < b->name;
  });
  return order;
}

}  // namespace libquant::jobs
