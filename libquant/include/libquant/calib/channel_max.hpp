#pragma once
// SmoothQuant's activation statistics: for every linear layer's input, the
// maximum |x| of each input channel over all calibration tokens; optionally
// also an evenly spaced sample of whole input rows (for searches that
// measure quantization error on real activations).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/export.hpp"

namespace libquant::calib {

class LIBQUANT_API ChannelMaxCollector final : public LinearHook {
 public:
  // Everything collected so far, as a job's checkpoint keeps it: a collector
  // restored from it and fed the remaining inputs ends exactly where one fed
  // every input would (maxima are order-free; `rows_seen` keeps the sampling
  // stride's phase).
  struct State {
    std::map<std::string, std::vector<float>> maxima, samples;
    std::map<std::string, int64_t> rows_seen;
    std::string non_finite;
  };

  // Keeps every `sample_stride`-th input row of the weights named in
  // `sampled` (none when empty or the stride is 0).
  explicit ChannelMaxCollector(std::vector<std::string> sampled = {}, int64_t sample_stride = 0);

  void on_input(const LinearInput& in) override;

  // Per-channel max |x|, keyed by GGUF weight name ("blk.0.attn_q.weight").
  const std::map<std::string, std::vector<float>>& maxima() const noexcept { return maxima_; }
  const std::vector<float>* channel_max(const std::string& weight) const;
  // Sampled rows (row-major, `cols` wide) of a weight's input; null when none.
  const std::vector<float>* samples(const std::string& weight) const;
  // Whether any collected value was NaN or infinite, and where first.
  const std::string& first_non_finite() const noexcept { return non_finite_; }

  // Every sampled weight's rows and how many input rows each has seen.
  const std::map<std::string, std::vector<float>>& all_samples() const noexcept { return samples_; }
  const std::map<std::string, int64_t>& rows_seen() const noexcept { return rows_seen_; }
  // Continues from a checkpoint's state (replacing anything collected).
  // Throws Error(InvalidArgument) when samples are kept for a weight that is
  // not sampled or are not whole rows of its input width.
  void restore(State s);

 private:
  std::map<std::string, std::vector<float>> maxima_, samples_;
  std::map<std::string, int64_t> rows_seen_;
  std::vector<std::string> sampled_;
  int64_t stride_;
  std::string non_finite_;
};

}  // namespace libquant::calib
