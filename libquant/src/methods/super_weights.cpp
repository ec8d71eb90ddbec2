#include "libquant/methods/super_weights.hpp"

#include <algorithm>
#include <cmath>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/methods/importance_matrix.hpp"

namespace libquant::methods {
namespace {

constexpr size_t kSpikesPerLayer = 8;  // output channels kept per layer as candidates

bool is_ffn_down(std::string_view name) {
  return name.size() > 16 && name.substr(name.size() - 16) == ".ffn_down.weight";
}

float median(std::vector<float> v) {
  if (v.empty()) return 0.0f;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

SuperWeightFinder::SuperWeightFinder(const model::TensorSource& source, SuperWeightCriteria criteria)
    : src_(source), crit_(criteria) {}

void SuperWeightFinder::on_input(const calib::LinearInput& in) {
  if (in.layer < 0 || !is_ffn_down(in.weight)) return;
  if (crit_.max_layers >= 0 && in.layer >= crit_.max_layers) return;
  last_input_.assign(in.x, in.x + in.rows * in.cols);  // kept until the matching output arrives
  last_cols_ = in.cols;
  auto& col_max = layers_[in.layer].input_max;
  col_max.resize(static_cast<size_t>(in.cols), 0.0f);
  for (int64_t t = 0; t < in.rows; ++t)
    for (int64_t c = 0; c < in.cols; ++c) col_max[c] = std::max(col_max[c], std::fabs(in.x[t * in.cols + c]));
}

void SuperWeightFinder::on_output(const calib::LinearOutput& out) {
  if (out.layer < 0 || !is_ffn_down(out.weight) || last_input_.empty()) return;
  check(static_cast<int64_t>(last_input_.size()) == out.rows * last_cols_, ErrorCode::ImportanceFailed,
        "super-weight finder: ffn_down input and output disagree");
  LayerStats& L = layers_[out.layer];
  L.channel_max.resize(static_cast<size_t>(out.cols), 0.0f);
  // Per channel, the token where |y| peaks in this batch.
  std::vector<int64_t> at(static_cast<size_t>(out.cols), -1);
  std::vector<float> peak(static_cast<size_t>(out.cols), 0.0f);
  for (int64_t t = 0; t < out.rows; ++t)
    for (int64_t r = 0; r < out.cols; ++r) {
      const float a = std::fabs(out.y[t * out.cols + r]);
      if (a > peak[r]) {
        peak[r] = a;
        at[r] = t;
      }
    }
  for (int64_t r = 0; r < out.cols; ++r) L.channel_max[r] = std::max(L.channel_max[r], peak[r]);
  // Keep the strongest channels (over all batches so far) with their input rows.
  std::vector<int64_t> order(static_cast<size_t>(out.cols));
  for (int64_t r = 0; r < out.cols; ++r) order[r] = r;
  const size_t keep = std::min(kSpikesPerLayer, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](int64_t a, int64_t b) { return peak[a] > peak[b]; });
  for (size_t i = 0; i < keep; ++i) {
    const int64_t r = order[i];
    Spike& s = L.spikes[r];
    if (peak[r] <= s.activation) continue;
    s.activation = peak[r];
    s.row = r;
    const float* x = last_input_.data() + at[r] * last_cols_;
    s.x.assign(x, x + last_cols_);
  }
  // Bound the candidates: drop the weakest beyond kSpikesPerLayer.
  while (L.spikes.size() > kSpikesPerLayer) {
    auto weakest = std::min_element(L.spikes.begin(), L.spikes.end(), [](const auto& a, const auto& b) {
      return a.second.activation < b.second.activation;
    });
    L.spikes.erase(weakest);
  }
  last_input_.clear();
}

std::vector<SuperWeight> SuperWeightFinder::finish() const {
  std::vector<SuperWeight> found;
  for (const auto& [layer_id, L] : layers_) {
    const int layer = layer_id;  // a plain variable: lambdas below capture it
    const float med = median(L.channel_max);
    std::vector<const Spike*> strong;
    for (const auto& [r, s] : L.spikes)
      if (s.activation > crit_.min_spike_ratio * med) strong.push_back(&s);
    const std::string name = "blk." + std::to_string(layer) + ".ffn_down.weight";
    const model::SourceTensor* t = src_.find(name);
    check(t != nullptr, ErrorCode::ImportanceFailed, "model has no tensor '" + name + "'");
    const Tensor w = src_.read_f32(*t);
    src_.release(*t);
    const int64_t rows = w.shape()[0], cols = w.shape()[1];
    const float* W = w.data_as<float>();
    isolated_outliers(layer, name, W, rows, cols, L, found);
    for (const Spike* s : strong) {
      if (static_cast<int64_t>(s->x.size()) != cols || s->row >= rows) continue;
      const float* wr = W + s->row * cols;
      double y = 0.0;
      int64_t best = 0;
      for (int64_t c = 0; c < cols; ++c) {
        y += static_cast<double>(wr[c]) * s->x[c];
        if (std::fabs(wr[c] * s->x[c]) > std::fabs(wr[best] * s->x[best])) best = c;
      }
      const double share = y != 0.0 ? static_cast<double>(wr[best]) * s->x[best] / y : 0.0;
      double col_ss = 0.0;  // the column's RMS without this weight
      for (int64_t r = 0; r < rows; ++r)
        if (r != s->row) col_ss += static_cast<double>(W[r * cols + best]) * W[r * cols + best];
      const double col_rms = std::sqrt(col_ss / static_cast<double>(std::max<int64_t>(1, rows - 1)));
      const double weight_ratio = col_rms > 0 ? std::fabs(wr[best]) / col_rms : INFINITY;
      if (share < crit_.min_share || weight_ratio < crit_.min_weight_ratio) continue;
      auto dup = std::find_if(found.begin(), found.end(), [&](const SuperWeight& f) {
        return f.layer == layer && f.row == s->row && f.col == best;
      });
      if (dup != found.end()) found.erase(dup);  // the spike explains it better than the isolation test
      found.push_back({name, layer, s->row, best, wr[best], s->activation, std::fabs(s->x[best]),
                       static_cast<float>(share), "activation_spike"});
    }
  }
  std::sort(found.begin(), found.end(), [](const SuperWeight& a, const SuperWeight& b) {
    return a.layer != b.layer ? a.layer < b.layer : a.activation > b.activation;
  });
  return found;
}

void SuperWeightFinder::isolated_outliers(int layer, const std::string& name, const float* W, int64_t rows,
                                          int64_t cols, const LayerStats& L, std::vector<SuperWeight>& found) const {
  // A weight that towers over both its row and its column (by the median
  // magnitude, which a few outlier columns cannot inflate). Such a scalar is
  // a super weight even where this text does not make it spike.
  std::vector<float> row_med(static_cast<size_t>(rows)), col_med(static_cast<size_t>(cols)), buf;
  for (int64_t r = 0; r < rows; ++r) {
    buf.assign(W + r * cols, W + (r + 1) * cols);
    for (auto& v : buf) v = std::fabs(v);
    row_med[r] = median(buf);
  }
  for (int64_t c = 0; c < cols; ++c) {
    buf.resize(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) buf[r] = std::fabs(W[r * cols + c]);
    col_med[c] = median(buf);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float a = std::fabs(W[r * cols + c]);
      if (a < crit_.min_isolation * std::max(row_med[r], col_med[c]) || a == 0.0f) continue;
      const bool known = std::any_of(found.begin(), found.end(), [&](const SuperWeight& f) {
        return f.layer == layer && f.row == r && f.col == c;
      });
      if (known) continue;
      const float x = c < static_cast<int64_t>(L.input_max.size()) ? L.input_max[c] : 0.0f;
      found.push_back({name, layer, r, c, W[r * cols + c], a * x, x, 0.0f, "isolated_weight"});
    }
}

int64_t SaliencyMask::total() const {
  int64_t n = 0;
  for (const auto& [name, idx] : indices) n += static_cast<int64_t>(idx.size());
  return n;
}

SaliencyMask saliency_mask(const model::TensorSource& source, const ImportanceMatrix& imatrix, double coverage) {
  check(coverage > 0 && coverage <= 0.01, ErrorCode::InvalidArgument, "coverage must be in (0, 0.01]");
  SaliencyMask m;
  m.coverage = coverage;
  for (const auto& e : imatrix.entries()) {
    const model::SourceTensor* t = source.find(e.name);
    if (!t || t->shape.rank() != 2 || t->shape[1] != static_cast<int64_t>(e.sums.size())) continue;
    const Tensor w = source.read_f32(*t);
    source.release(*t);
    const int64_t rows = t->shape[0], cols = t->shape[1], n = rows * cols;
    const std::vector<float> mean = e.mean();
    std::vector<float> root(mean.size());
    for (size_t c = 0; c < mean.size(); ++c) root[c] = std::sqrt(mean[c]);
    const float* W = w.data_as<float>();
    auto saliency = [&](int64_t i) { return std::fabs(W[i]) * root[static_cast<size_t>(i % cols)]; };
    const auto k = static_cast<int64_t>(std::ceil(coverage * static_cast<double>(n)));
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    // Ties broken by index so the mask is deterministic.
    std::nth_element(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
      const float sa = saliency(a), sb = saliency(b);
      return sa != sb ? sa > sb : a < b;
    });
    idx.resize(static_cast<size_t>(k));
    std::sort(idx.begin(), idx.end());
    m.indices[e.name] = std::move(idx);
    m.shapes[e.name] = {rows, cols};
  }
  return m;
}

void write_super_weight(JsonWriter& j, const SuperWeight& s) {
  j.begin_object()
      .field("tensor", s.tensor)
      .field("layer", s.layer)
      .field("row", s.row)
      .field("col", s.col)
      .field("value", s.value)
      .field("activation", s.activation)
      .field("input_activation", s.input_activation)
      .field("share", s.share)
      .field("kind", s.kind)
      .end_object();
}

void save_super_weights(const std::filesystem::path& path, const std::string& model,
                        const std::vector<SuperWeight>& found, const SaliencyMask& mask) {
  JsonWriter j(1);
  j.begin_object()
      .field("format", "libquant.super_weights")
      .field("version", 1)
      .field("model", model)
      .field("coverage", mask.coverage)
      .field("protection_precision", 16);
  j.key("super_weights").begin_array();
  for (const auto& s : found) write_super_weight(j, s);
  j.end_array();
  j.field("total_protected", mask.total());
  j.key("masks").begin_object();
  for (const auto& [name, idx] : mask.indices) {
    const auto [rows, cols] = mask.shapes.at(name);
    j.key(name).begin_object();
    j.key("shape").begin_array().value(rows).value(cols).end_array();
    j.key("indices").begin_array();
    for (int64_t i : idx) j.value(i);
    j.end_array().end_object();
  }
  j.end_object().end_object();
  AtomicFile out(path);
  const std::string text = j.str() + "\n";
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace libquant::methods
