#pragma once
// llama-imatrix --show-statistics: per weight, statistics of its per-column
// mean squared activations, and per layer their element-weighted averages --
// computed in single precision in llama-imatrix's order, so that the values
// equal what it prints.
#include <cstdint>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/methods/importance_matrix.hpp"

namespace libquant::methods {

struct ActivationStatistics {
  std::string name;    // "blk.3.attn_q.weight"
  std::string layer;   // "3", or "-" outside the blocks
  std::string tensor;  // "attn_q": the part before ".weight"
  float sum = 0;       // Σ of the per-column means (Σ(Act²))
  float min = 0, max = 0, mean = 0, stddev = 0;
  float active = 0;  // share of columns whose mean exceeds 1e-5
  int64_t elements = 0;
  float entropy = 0;       // bits, of the means as a distribution
  float entropy_norm = 0;  // percent of log2(elements)
  float zd = 0;            // share of columns more than one σ above the mean
  float cossim = 0;        // cosine of the raw sums with the same weight one block earlier (0: none)
};

struct LayerActivationStatistics {
  int layer = 0;
  float mean_sum = 0;  // element-weighted averages over the layer's weights
  float zd = 0;
  float cossim = 0;
};

struct ImatrixStatistics {
  std::vector<ActivationStatistics> tensors;  // by tensor kind, then by Σ descending (llama-imatrix's order)
  std::vector<LayerActivationStatistics> layers;
  std::vector<std::string> skipped;  // weights without any counted activation
};

LIBQUANT_API ImatrixStatistics activation_statistics(const ImportanceMatrix& m);

}  // namespace libquant::methods
