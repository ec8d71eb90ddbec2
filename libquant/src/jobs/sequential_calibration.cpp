#include "sequential_calibration.hpp"

#include <algorithm>
#include <cstring>

#include "libquant/core/error.hpp"

namespace libquant::jobs {

namespace {
std::vector<eval::Transformer::Hidden*> pointers(std::vector<eval::Transformer::Hidden>& hs) {
  std::vector<eval::Transformer::Hidden*> xs;
  xs.reserve(hs.size());
  for (auto& h : hs) xs.push_back(&h);
  return xs;
}
}  // namespace

SequentialCalibration::SequentialCalibration(const model::TensorSource& src,
                                             const std::vector<std::vector<int32_t>>& samples, int64_t batch,
                                             unsigned threads) {
  check(batch >= 1, ErrorCode::InvalidArgument, "calibration needs a batch of at least 1");
  eval::ForwardOptions fo;
  fo.threads = threads;
  fo.streaming = true;
  fo.transform = [this](const model::SourceTensor& t, Tensor f) {
    auto it = overrides_.find(t.name);
    if (it == overrides_.end()) return f;
    check(it->second.nbytes() == f.nbytes(), ErrorCode::InvalidArgument,
          "replacement for '" + t.name + "' differs in size");
    std::memcpy(f.data(), it->second.data(), f.nbytes());
    return f;
  };
  model_ = std::make_unique<eval::Transformer>(src, fo);
  for (size_t b0 = 0; b0 < samples.size(); b0 += static_cast<size_t>(batch)) {
    const size_t b1 = std::min(samples.size(), b0 + static_cast<size_t>(batch));
    hidden_.push_back(model_->embed(
        {samples.begin() + static_cast<std::ptrdiff_t>(b0), samples.begin() + static_cast<std::ptrdiff_t>(b1)}));
  }
}

void SequentialCalibration::observe(int layer, calib::LinearHook& hook) {
  std::vector<eval::Transformer::Hidden> copy = hidden_;
  model_->run_layer(layer, pointers(copy), &hook);
}

void SequentialCalibration::advance(int layer) { model_->run_layer(layer, pointers(hidden_)); }

BlockInverses::BlockInverses(const methods::HessianCollector& hc, const std::vector<std::string>& weights,
                             const methods::GptqOptions& opts)
    : hc_(hc), opts_(opts) {
  for (const auto& w : weights) ++users_[hc.input_of(w)];
}

const methods::GptqInverse& BlockInverses::get(const std::string& weight, int64_t cols) {
  const std::string input = hc_.input_of(weight);
  auto it = inverses_.find(input);
  if (it == inverses_.end()) {
    auto h = hc_.hessian(weight);
    check(!h.empty(), ErrorCode::SmoothQuantFailed, "GPTQ saw no inputs of '" + weight + "'",
          "The forward pass does not reach this linear; report the model");
    it = inverses_.emplace(input, methods::gptq_inverse(weight, std::move(h), cols, opts_)).first;
  }
  return it->second;
}

void BlockInverses::done(const std::string& weight) {
  const std::string input = hc_.input_of(weight);
  if (--users_[input] == 0) inverses_.erase(input);
}

}  // namespace libquant::jobs
