#include "libquant/calib/channel_max.hpp"

#include <algorithm>
#include <cmath>

#include "libquant/core/error.hpp"

namespace libquant::calib {

ChannelMaxCollector::ChannelMaxCollector(std::vector<std::string> sampled, int64_t sample_stride)
    : sampled_(std::move(sampled)), stride_(sample_stride) {}

void ChannelMaxCollector::on_input(const LinearInput& in) {
  const std::string name(in.weight);
  auto& mx = maxima_[name];
  if (mx.empty()) mx.assign(static_cast<size_t>(in.cols), 0.0f);
  check(static_cast<int64_t>(mx.size()) == in.cols, ErrorCode::InvalidArgument,
        "input width of '" + name + "' changed between calls");
  for (int64_t r = 0; r < in.rows; ++r) {
    const float* x = in.x + r * in.cols;
    for (int64_t c = 0; c < in.cols; ++c) {
      const float a = std::fabs(x[c]);
      // NaN compares false: keep it visible instead of letting max() drop it.
      if (!std::isfinite(a) && non_finite_.empty()) non_finite_ = name;
      mx[static_cast<size_t>(c)] = std::max(mx[static_cast<size_t>(c)], a);
    }
  }
  if (stride_ <= 0 || std::find(sampled_.begin(), sampled_.end(), name) == sampled_.end()) return;
  int64_t& seen = rows_seen_[name];
  auto& rows = samples_[name];
  for (int64_t r = 0; r < in.rows; ++r, ++seen)
    if (seen % stride_ == 0) rows.insert(rows.end(), in.x + r * in.cols, in.x + (r + 1) * in.cols);
}

void ChannelMaxCollector::restore(State s) {
  for (const auto& [name, rows] : s.samples) {
    const auto mx = s.maxima.find(name);
    check(std::find(sampled_.begin(), sampled_.end(), name) != sampled_.end() && mx != s.maxima.end() &&
              !mx->second.empty() && rows.size() % mx->second.size() == 0,
          ErrorCode::InvalidArgument, "restored samples of '" + name + "' do not fit its input");
  }
  for (const auto& [name, seen] : s.rows_seen)
    check(seen >= 0, ErrorCode::InvalidArgument, "restored row count of '" + name + "' is negative");
  maxima_ = std::move(s.maxima);
  samples_ = std::move(s.samples);
  rows_seen_ = std::move(s.rows_seen);
  non_finite_ = std::move(s.non_finite);
}

const std::vector<float>* ChannelMaxCollector::channel_max(const std::string& weight) const {
  auto it = maxima_.find(weight);
  return it == maxima_.end() ? nullptr : &it->second;
}

const std::vector<float>* ChannelMaxCollector::samples(const std::string& weight) const {
  auto it = samples_.find(weight);
  return it == samples_.end() ? nullptr : &it->second;
}

}  // namespace libquant::calib
