#include "libquant/methods/awq.hpp"

#include <algorithm>
#include <cmath>

#include "libquant/core/error.hpp"

namespace libquant::methods {

std::vector<std::pair<double, bool>> awq_grid(int n_grid) {
  check(n_grid >= 3, ErrorCode::InvalidArgument, "the AWQ grid needs at least 3 points");
  std::vector<std::pair<double, bool>> g{{0.0, false}};
  for (int i = 0; i <= n_grid - 2; ++i) g.emplace_back(static_cast<double>(i) / (n_grid - 2), true);
  return g;
}

std::vector<float> awq_scales(std::span<const float> x_mean, std::span<const float> w_mean, double ratio, bool duo) {
  check(!duo || x_mean.size() == w_mean.size(), ErrorCode::InvalidArgument, "AWQ statistics differ in width");
  std::vector<double> s(x_mean.size());
  for (size_t j = 0; j < s.size(); ++j) {
    double v = std::pow(static_cast<double>(x_mean[j]), ratio);
    if (duo) v /= std::pow(static_cast<double>(w_mean[j]), 1.0 - ratio) + 1e-4;
    s[j] = std::max(v, 1e-4);
  }
  const auto [lo, hi] = std::minmax_element(s.begin(), s.end());
  const double norm = s.empty() ? 1.0 : std::sqrt(*lo * *hi);
  std::vector<float> out(s.size());
  for (size_t j = 0; j < s.size(); ++j) {
    const auto v = static_cast<float>(s[j] / norm);
    out[j] = std::isfinite(v) ? v : 1.0f;
  }
  return out;
}

void accumulate_weight_mean(const float* w, int64_t rows, int64_t cols, int64_t group_size, std::vector<double>& sum,
                            int64_t& count) {
  const int64_t gs = group_size > 0 ? group_size : cols;
  check(cols % gs == 0, ErrorCode::InvalidArgument, "group size does not divide the columns");
  if (sum.empty()) sum.assign(static_cast<size_t>(cols), 0.0);
  check(static_cast<int64_t>(sum.size()) == cols, ErrorCode::InvalidArgument, "balance linears differ in width");
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g0 = 0; g0 < cols; g0 += gs) {
      const float* x = w + r * cols + g0;
      float mx = 0;
      for (int64_t c = 0; c < gs; ++c) mx = std::max(mx, std::fabs(x[c]));
      for (int64_t c = 0; c < gs; ++c) sum[static_cast<size_t>(g0 + c)] += std::fabs(x[c]) / (mx + 1e-6f);
    }
  count += rows;
}

std::vector<SmoothingGroup> awq_groups(const model::ModelConfig& cfg) {
  auto groups = smoothing_groups(cfg, true);
  const model::ArchitectureInfo* arch = cfg.arch();
  if (arch->fused_projections || cfg.num_heads != cfg.num_kv_heads) return groups;
  std::vector<SmoothingGroup> out;
  for (auto& g : groups) {
    const bool attention = std::any_of(g.linears.begin(), g.linears.end(),
                                       [](const std::string& l) { return l.find(".attn_v.") != std::string::npos; });
    out.push_back(std::move(g));
    if (attention) {  // v's rows are o's columns: v can absorb 1/s
      const std::string p = "blk." + std::to_string(out.back().layer) + ".";
      out.push_back({out.back().layer, p + "attn_v.weight", {p + "attn_output.weight"}});
    }
  }
  return out;
}

ActivationMeanCollector::ActivationMeanCollector(std::vector<std::string> weights) {
  for (auto& w : weights) sums_[std::move(w)];
}

void ActivationMeanCollector::on_input(const calib::LinearInput& in) {
  auto it = sums_.find(in.weight);
  if (it == sums_.end()) return;
  Sum& s = it->second;
  if (s.abs_sum.empty()) s.abs_sum.assign(static_cast<size_t>(in.cols), 0.0);
  check(static_cast<int64_t>(s.abs_sum.size()) == in.cols, ErrorCode::InvalidArgument,
        "inputs of '" + std::string(in.weight) + "' changed width");
  for (int64_t r = 0; r < in.rows; ++r)
    for (int64_t c = 0; c < in.cols; ++c) s.abs_sum[static_cast<size_t>(c)] += std::fabs(in.x[r * in.cols + c]);
  s.tokens += in.rows;
}

std::vector<float> ActivationMeanCollector::mean(const std::string& weight) const {
  auto it = sums_.find(weight);
  if (it == sums_.end() || it->second.tokens == 0) return {};
  std::vector<float> m(it->second.abs_sum.size());
  for (size_t c = 0; c < m.size(); ++c)
    m[c] = static_cast<float>(it->second.abs_sum[c] / static_cast<double>(it->second.tokens));
  return m;
}

}  // namespace libquant::methods
