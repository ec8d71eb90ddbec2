#include "libquant/methods/activation_statistics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include "libquant/model/tensor_naming.hpp"

namespace libquant::methods {
namespace {

// llama-imatrix's split of a name: the number after "blk", the part before "weight".
void split_name(const std::string& name, std::string& layer, std::string& tensor) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  layer.clear();
  tensor.clear();
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i] == "blk") {
      layer = parts[i + 1];
      break;
    }
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i] == "weight") {
      tensor = parts[i - 1];
      break;
    }
  if (tensor.empty()) tensor = name;
  if (layer.empty()) layer.push_back('-');
}

// The per-column means of the experts (or the weight) that saw any token, in float as llama-imatrix divides.
std::vector<float> means(const ImatrixEntry& e) {
  const std::vector<int64_t> counts = e.expert_counts.empty() ? std::vector<int64_t>{e.count} : e.expert_counts;
  const size_t cols = e.sums.size() / counts.size();
  std::vector<float> out;
  out.reserve(e.sums.size());
  for (size_t x = 0; x < counts.size(); ++x)
    if (counts[x] != 0)
      for (size_t j = 0; j < cols; ++j) out.push_back(e.sums[x * cols + j] / static_cast<float>(counts[x]));
  return out;
}

bool saw_tokens(const ImatrixEntry& e) {
  return e.expert_counts.empty()
             ? e.count != 0
             : std::any_of(e.expert_counts.begin(), e.expert_counts.end(), [](int64_t c) { return c; });
}

std::optional<ActivationStatistics> statistics_of(const ImatrixEntry& e) {
  const std::vector<float> a = means(e);
  if (a.empty()) return std::nullopt;
  ActivationStatistics s;
  s.name = e.name;
  split_name(e.name, s.layer, s.tensor);
  const auto n = static_cast<float>(a.size());
  s.sum = std::accumulate(a.begin(), a.end(), 0.0f);
  s.max = *std::max_element(a.begin(), a.end());
  s.min = *std::min_element(a.begin(), a.end());
  s.mean = s.sum / n;
  const float sq = std::inner_product(a.begin(), a.end(), a.begin(), 0.0f);
  s.stddev = std::sqrt(std::max(0.0f, sq / n - s.mean * s.mean));
  const auto inactive = std::count_if(a.begin(), a.end(), [](float v) { return std::fabs(v) <= 1e-5f; });
  s.active = 1 - static_cast<float>(inactive) / n;
  if (s.sum > 0)
    for (float v : a)
      if (const float p = v / s.sum; p > 0) s.entropy -= p * std::log2(p);
  int above = 0;
  if (s.stddev > 0.0f)
    for (float v : a)
      if ((v - s.mean) / s.stddev > 1) ++above;
  s.elements = static_cast<int64_t>(a.size());
  s.zd = static_cast<float>(above) / static_cast<float>(s.elements);
  // In double, as llama-imatrix's log2 of an int.
  s.entropy_norm = static_cast<float>(100.0f * (s.entropy / std::log2(static_cast<double>(s.elements))));
  return s;
}

float cosine(const std::vector<float>& x, const std::vector<float>& y) {
  const float dot = std::inner_product(x.begin(), x.end(), y.begin(), 0.0f);
  const float nx = std::sqrt(std::inner_product(x.begin(), x.end(), x.begin(), 0.0f));
  const float ny = std::sqrt(std::inner_product(y.begin(), y.end(), y.begin(), 0.0f));
  return dot / (nx * ny);
}

}  // namespace

ImatrixStatistics activation_statistics(const ImportanceMatrix& m) {
  ImatrixStatistics r;
  for (const auto& e : m.entries()) {
    if (auto s = statistics_of(e))
      r.tensors.push_back(std::move(*s));
    else
      r.skipped.push_back(e.name);
  }
  for (auto& s : r.tensors) {
    const auto layer = model::gguf_layer_index(s.name);
    if (!layer) continue;
    std::string earlier = s.name;
    earlier.replace(4, std::to_string(*layer).size(), std::to_string(*layer - 1));
    const ImatrixEntry* prev = m.find(earlier);
    const ImatrixEntry* cur = m.find(s.name);
    // As llama-imatrix: only against a weight that has statistics of its own.
    if (prev && prev->sums.size() == cur->sums.size() && saw_tokens(*prev)) s.cossim = cosine(cur->sums, prev->sums);
  }
  std::stable_sort(r.tensors.begin(), r.tensors.end(), [](const auto& a, const auto& b) {
    return a.tensor != b.tensor ? a.tensor < b.tensor : a.sum > b.sum;
  });
  struct Weighted {
    float sum = 0, zd = 0, cossim = 0;
    int64_t elements = 0;
  };
  std::map<int, Weighted> per_layer;
  for (const auto& s : r.tensors) {
    int layer = -1;
    const auto [end, ec] = std::from_chars(s.layer.data(), s.layer.data() + s.layer.size(), layer);
    if (ec != std::errc() || layer < 0) continue;
    Weighted& w = per_layer[layer];
    const auto n = static_cast<float>(s.elements);
    w.sum += n * s.sum;
    w.zd += n * s.zd;
    w.cossim += n * s.cossim;
    w.elements += s.elements;
  }
  for (const auto& [layer, w] : per_layer)
    if (w.elements > 0) {
      const auto n = static_cast<float>(w.elements);
      r.layers.push_back({layer, w.sum / n, w.zd / n, w.cossim / n});
    }
  return r;
}

}  // namespace libquant::methods
