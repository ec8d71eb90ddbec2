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

 private:
  std::map<std::string, std::vector<float>> maxima_, samples_;
  std::map<std::string, int64_t> rows_seen_;
  std::vector<std::string> sampled_;
  int64_t stride_;
  std::string non_finite_;
};

}  // namespace libquant::calib
