#include "awq_block.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../cpu/ops.hpp"
#include "libquant/core/error.hpp"
#include "libquant/methods/awq.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs {

namespace {

// The statistics hook, plus the first rows of the inputs of linears whose
// group is scored on their own output (the ones balanced against a producing
// linear: down_proj, o_proj), as llm-compressor scores those groups.
class SearchInputs : public calib::LinearHook {
 public:
  SearchInputs(methods::ActivationMeanCollector& stats, std::vector<std::string> kept, int64_t rows)
      : stats_(stats), rows_(rows) {
    for (auto& k : kept) kept_[std::move(k)];
  }
  void on_input(const calib::LinearInput& in) override {
    stats_.on_input(in);
    auto it = kept_.find(in.weight);
    if (it == kept_.end()) return;
    auto& [x, cols] = it->second;
    cols = in.cols;
    const int64_t have = static_cast<int64_t>(x.size()) / std::max<int64_t>(in.cols, 1);
    const int64_t take = std::min(in.rows, rows_ - have);
    if (take > 0) x.insert(x.end(), in.x, in.x + take * in.cols);
  }
  // Rows x [n, cols] kept for a weight.
  const std::pair<std::vector<float>, int64_t>& rows(const std::string& weight) const { return kept_.at(weight); }

 private:
  methods::ActivationMeanCollector& stats_;
  int64_t rows_;
  std::map<std::string, std::pair<std::vector<float>, int64_t>, std::less<>> kept_;
};

// Mean squared difference of x W^T and x V^T.
double linear_output_error(const std::vector<float>& x, int64_t cols, const Tensor& w, const Tensor& v) {
  const int64_t n = static_cast<int64_t>(x.size()) / cols, out = static_cast<int64_t>(w.shape().rows());
  std::vector<float> a(static_cast<size_t>(n * out)), b(a.size());
  cpu::linear(x.data(), n, cols, w.data_as<float>(), out, nullptr, a.data());
  cpu::linear(x.data(), n, cols, v.data_as<float>(), out, nullptr, b.data());
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return a.empty() ? 0.0 : sum / static_cast<double>(a.size());
}

std::vector<eval::Transformer::Hidden*> pointers(std::vector<eval::Transformer::Hidden>& v) {
  std::vector<eval::Transformer::Hidden*> out;
  out.reserve(v.size());
  for (auto& h : v) out.push_back(&h);
  return out;
}

// Q(W diag(s)) diag(s)^-1: what the block computes with the scaled, rounded
// weight on the unscaled input.
Tensor trial_weight(const Tensor& w, std::span<const float> s, const methods::IntWeightScheme& scheme) {
  const auto rows = static_cast<int64_t>(w.shape().rows()), cols = static_cast<int64_t>(w.shape().row_length());
  std::vector<float> ws(w.data_as<float>(), w.data_as<float>() + rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) ws[static_cast<size_t>(r * cols + c)] *= s[static_cast<size_t>(c)];
  const auto q = methods::rtn_quantize(ws.data(), rows, cols, scheme);
  Tensor out = dequantized_tensor(q, w.shape());
  float* o = out.data_as<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) o[r * cols + c] /= s[static_cast<size_t>(c)];
  return out;
}

double mean_squared_difference(const std::vector<eval::Transformer::Hidden>& a,
                               const std::vector<eval::Transformer::Hidden>& b) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t k = 0; k < a[i].h.size(); ++k) {
      const double d = static_cast<double>(a[i].h[k]) - b[i].h[k];
      sum += d * d;
    }
    n += a[i].h.size();
  }
  return n ? sum / static_cast<double>(n) : 0.0;
}

}  // namespace

Tensor dequantized_tensor(const methods::IntWeight& q, const Shape& shape) {
  Tensor t(DType::F32, shape);
  for (int64_t r = 0; r < q.rows; ++r) q.dequantize_row(r, t.data_as<float>() + r * q.cols);
  return t;
}

void awq_block(const model::TensorSource& src, const model::ModelConfig& cfg, int layer, eval::Transformer& model,
               std::map<std::string, Tensor, std::less<>>& overrides,
               const std::vector<eval::Transformer::Hidden>& inputs, const methods::IntWeightScheme& scheme, int n_grid,
               int64_t search_batches, std::map<std::string, methods::IntWeight>& quantized,
               std::vector<AwqChoice>& choices) {
  std::vector<methods::SmoothingGroup> groups;
  for (auto& g : methods::awq_groups(cfg))
    if (g.layer == layer) groups.push_back(std::move(g));
  // What each group's candidates are scored on (llm-compressor's parent
  // modules): a linear balanced against a producing linear on its own
  // output; the input norm's group on the attention sublayer's output; the
  // post-attention norm's group on the FFN sublayer's; a block whose
  // attention and FFN share one norm (Command-R) on the whole block.
  enum class Scope { Linear, Attention, FeedForward, Block };
  const bool halves = !cfg.arch()->parallel_block;
  auto scope_of = [&](const methods::SmoothingGroup& g) {
    if (!g.norm.ends_with("norm.weight")) return Scope::Linear;
    if (halves && g.norm.ends_with(".attn_norm.weight")) return Scope::Attention;
    if (halves && g.norm.ends_with(".ffn_norm.weight")) return Scope::FeedForward;
    return Scope::Block;
  };
  std::vector<std::string> first_linears, own_output;
  for (const auto& g : groups) {
    first_linears.push_back(g.linears.front());
    if (scope_of(g) == Scope::Linear) own_output.push_back(g.linears.front());
  }

  // Float pass: activation means of every group's input, the inputs of the
  // linears scored on their own output, and the float outputs the search
  // compares against on its batches.
  const size_t k = static_cast<size_t>(std::clamp<int64_t>(search_batches, 1, static_cast<int64_t>(inputs.size())));
  int64_t search_rows = 0;
  for (size_t i = 0; i < k; ++i) search_rows += inputs[i].batch * inputs[i].seq;
  methods::ActivationMeanCollector stats(first_linears);
  SearchInputs hook(stats, own_output, search_rows);
  std::vector<eval::Transformer::Hidden> ref = inputs;
  model.run_layer(layer, pointers(ref), &hook);
  ref.resize(k);
  const std::vector<eval::Transformer::Hidden> search_inputs(inputs.begin(),
                                                             inputs.begin() + static_cast<std::ptrdiff_t>(k));
  using Sublayer = eval::Transformer::Sublayer;
  std::vector<eval::Transformer::Hidden> ref_attention, mid, ref_ffn;  // the halves' float outputs; the FFN's input
  if (halves) {
    ref_attention = mid = search_inputs;
    model.run_sublayer(layer, Sublayer::Attention, pointers(ref_attention), false);
    model.run_sublayer(layer, Sublayer::Attention, pointers(mid), true);
    ref_ffn = mid;
    model.run_sublayer(layer, Sublayer::FeedForward, pointers(ref_ffn), false);
  }
  // The error of the current overrides on a group's scope.
  auto scope_error = [&](Scope scope) {
    std::vector<eval::Transformer::Hidden> out = scope == Scope::FeedForward ? mid : search_inputs;
    if (scope == Scope::Attention)
      model.run_sublayer(layer, Sublayer::Attention, pointers(out), false);
    else if (scope == Scope::FeedForward)
      model.run_sublayer(layer, Sublayer::FeedForward, pointers(out), false);
    else
      model.run_layer(layer, pointers(out));
    return mean_squared_difference(out, scope == Scope::Attention     ? ref_attention
                                        : scope == Scope::FeedForward ? ref_ffn
                                                                      : ref);
  };

  // The block's float tensors that scaling changes.
  std::map<std::string, Tensor, std::less<>> floats;
  auto load = [&](const std::string& name) -> Tensor& {
    auto it = floats.find(name);
    if (it != floats.end()) return it->second;
    const model::SourceTensor* t = src.find(name);
    check(t != nullptr, ErrorCode::ValidationFailed, "model has no tensor '" + name + "'");
    Tensor f = src.read_f32(*t);
    src.release(*t);
    return floats.emplace(name, std::move(f)).first->second;
  };
  for (const auto& t : src.tensors())
    if (methods::is_w8a8_linear(t.name) && model::gguf_layer_index(t.name) == layer) load(t.name);

  for (const auto& g : groups) {
    const std::vector<float> x_mean = stats.mean(g.linears.front());
    check(!x_mean.empty(), ErrorCode::SmoothQuantFailed, "AWQ saw no inputs of '" + g.linears.front() + "'");
    std::vector<double> wsum;
    int64_t wcount = 0;
    for (const auto& l : g.linears) {
      const Tensor& w = load(l);
      methods::accumulate_weight_mean(w.data_as<float>(), static_cast<int64_t>(w.shape().rows()),
                                      static_cast<int64_t>(w.shape().row_length()), scheme.group_size, wsum, wcount);
    }
    std::vector<float> w_mean(wsum.size());
    for (size_t j = 0; j < w_mean.size(); ++j) w_mean[j] = static_cast<float>(wsum[j] / static_cast<double>(wcount));

    AwqChoice best{g.norm, 0, false, std::numeric_limits<double>::infinity(), 0, {}};
    for (const auto& [ratio, duo] : methods::awq_grid(n_grid)) {
      const auto s = methods::awq_scales(x_mean, w_mean, ratio, duo);
      double err = 0;
      if (scope_of(g) == Scope::Linear) {  // its own output error on the kept input rows
        const auto& [x, cols] = hook.rows(g.linears.front());
        err = linear_output_error(x, cols, load(g.linears.front()), trial_weight(load(g.linears.front()), s, scheme));
      } else {  // the scope's output with the group's linears rounded
        for (const auto& l : g.linears) overrides.insert_or_assign(l, trial_weight(load(l), s, scheme));
        err = scope_error(scope_of(g));
      }
      if (ratio == 0 && !duo) best.error_unscaled = err;
      if (err < best.error) best = {g.norm, ratio, duo, err, best.error_unscaled, s};
    }
    for (const auto& l : g.linears) overrides.erase(l);
    check(std::isfinite(best.error), ErrorCode::SmoothQuantFailed,
          "AWQ found no finite block error for the group of '" + g.norm + "'",
          "Check the model's weights and the calibration text");
    // Fold: the balance linears' columns times s, the producer divided by s
    // (a norm element-wise, a linear and its bias row-wise).
    for (const auto& l : g.linears) {
      Tensor& w = load(l);
      const auto rows = static_cast<int64_t>(w.shape().rows()), cols = static_cast<int64_t>(w.shape().row_length());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) w.data_as<float>()[r * cols + c] *= best.scales[static_cast<size_t>(c)];
    }
    Tensor& producer = load(g.norm);
    const auto n = static_cast<int64_t>(best.scales.size());
    const int64_t per_row = static_cast<int64_t>(producer.shape().numel()) / n;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < per_row; ++c)
        producer.data_as<float>()[r * per_row + c] /= best.scales[static_cast<size_t>(r)];
    const std::string bias = g.norm.substr(0, g.norm.size() - 7) + ".bias";
    if (src.find(bias)) {
      Tensor& b = load(bias);
      for (int64_t r = 0; r < n; ++r) b.data_as<float>()[r] /= best.scales[static_cast<size_t>(r)];
    }
    choices.push_back(std::move(best));
  }

  // Round every linear of the block (balanced or not); the smoothed norms and
  // biases go through as floats.
  for (auto& [name, f] : floats) {
    if (!methods::is_w8a8_linear(name)) {
      overrides.insert_or_assign(name, std::move(f));
      continue;
    }
    auto q = methods::rtn_quantize(f.data_as<float>(), static_cast<int64_t>(f.shape().rows()),
                                   static_cast<int64_t>(f.shape().row_length()), scheme);
    // The next block is calibrated on this block's scaled float output, as
    // AutoAWQ and llm-compressor do (the scales keep the function).
    overrides.insert_or_assign(name, std::move(f));
    quantized.insert_or_assign(name, std::move(q));
  }
}

}  // namespace libquant::jobs
