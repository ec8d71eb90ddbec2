#pragma once
// AWQ (Lin et al., arXiv 2306.00978): before weights are rounded, each input
// channel j of the linears that read one activation is scaled by s_j (their
// columns multiplied, the producing norm or linear divided), so the channels
// that carry large activations lose less to rounding. s comes from a grid over
// an exponent r: s = mean|x|^r / (mean|ŵ|^(1-r) + 1e-4) ("duo scaling", ŵ the
// weights normalised by their quantization group's max), normalised to
// sqrt(max s * min s) = 1, and the r whose quantized block gives the least
// output error is kept (r = 0 without duo scaling is no scaling at all), as
// llm-compressor's AWQModifier and AutoAWQ search it.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/smoothquant.hpp"

namespace libquant::methods {

// The grid llm-compressor searches with duo scaling on: (0, plain) first —
// identity scales — then (i / (n - 2), duo) for i = 0 .. n - 2.
LIBQUANT_API std::vector<std::pair<double, bool>> awq_grid(int n_grid);

// s for exponent r (duo: divided by the weight term), clamped at 1e-4,
// normalised by sqrt(max * min); non-finite entries become 1.
LIBQUANT_API std::vector<float> awq_scales(std::span<const float> x_mean, std::span<const float> w_mean, double ratio,
                                           bool duo);

// Adds |w| / (max |w| of its quantization group + 1e-6) of w[rows, cols] to
// sum[cols] and rows to count; the mean over every balance linear's rows is
// AWQ's weight term.
LIBQUANT_API void accumulate_weight_mean(const float* w, int64_t rows, int64_t cols, int64_t group_size,
                                         std::vector<double>& sum, int64_t& count);

// The groups AWQ balances in a family: SmoothQuant's norm -> linears groups
// with up_proj -> down_proj, plus v_proj -> o_proj where v's rows are o's
// columns (no grouped-query attention).
LIBQUANT_API std::vector<SmoothingGroup> awq_groups(const model::ModelConfig& cfg);

// Mean |x| per input channel of chosen linears' inputs.
class LIBQUANT_API ActivationMeanCollector : public calib::LinearHook {
 public:
  explicit ActivationMeanCollector(std::vector<std::string> weights);
  void on_input(const calib::LinearInput& in) override;
  // Empty when the weight's input was never seen.
  std::vector<float> mean(const std::string& weight) const;

 private:
  struct Sum {
    std::vector<double> abs_sum;
    int64_t tokens = 0;
  };
  std::map<std::string, Sum, std::less<>> sums_;
};

}  // namespace libquant::methods
