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

BlockInverses::Input& BlockInverses::input_of(const std::string& weight) {
  auto [it, added] = inputs_.try_emplace(hc_.input_of(weight));
  if (added) {
    it->second.h = hc_.hessian(weight);
    check(!it->second.h.empty(), ErrorCode::SmoothQuantFailed, "GPTQ saw no inputs of '" + weight + "'",
          "The forward pass does not reach this linear; report the model");
  }
  return it->second;
}

const std::vector<double>& BlockInverses::hessian(const std::string& weight) { return input_of(weight).h; }

const methods::GptqInverse& BlockInverses::get(const std::string& weight, int64_t cols) {
  Input& in = input_of(weight);
  if (!in.inverse) in.inverse = methods::gptq_inverse(weight, in.h, cols, opts_);  // consumes a copy
  return *in.inverse;
}

void BlockInverses::done(const std::string& weight) {
  const std::string input = hc_.input_of(weight);
  if (--users_[input] == 0) inputs_.erase(input);
}

}  // namespace libquant::jobs
