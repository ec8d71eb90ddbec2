#pragma once
// GPTQ (Frantar et al., arXiv 2210.17323): a linear's columns are quantized
// one at a time, and each column's rounding error is spread over the columns
// not yet quantized through the inverse Hessian of the layer-wise loss
// ||X W^T - X Q^T||^2 (H = 2 X^T X over calibration inputs X), so later
// columns compensate for earlier ones. The Cholesky form with lazy block
// updates (section 3.4 of the paper): H^-1 = U^T U, column i's error
// (w_i - q_i) / U_ii moves w_j by -err * U_ij for j > i.
//
// Scales and zero points are fixed before the sweep from the weights' min and
// max per group, as llm-compressor's GPTQModifier (whose integers ours equal
// bit for bit on stories260K). With activation order (columns by descending
// H_ii) the groups are either the natural ones (`Static`, no g_idx) or
// contiguous in that order (`Group`, written with a g_idx).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/int_weight.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::methods {

enum class ActOrder { None, Static, Group };

struct GptqOptions {
  IntWeightScheme scheme;
  double damp = 0.01;   // added to H's diagonal, as a fraction of its mean
  int64_t block = 128;  // columns per lazy-update block
  ActOrder act_order = ActOrder::None;
};

struct GptqResult {
  IntWeight weight;
  double loss = 0;           // sum over rows of (w - q)^2 / (2 U_ii^2): the reference's error estimate
  double damp_used = 0;      // fraction of the mean diagonal that made H positive definite
  int64_t dead_columns = 0;  // inputs that were always zero (weights set to zero)
};

// H's inverse as the sweep uses it: the upper Cholesky factor U of
// (H + damping)^-1 in sweep order. It depends on H alone, so linears that read
// the same input (q/k/v, gate/up) share one: computed once, not per linear.
struct GptqInverse {
  int64_t cols = 0;
  std::vector<int64_t> order;  // sweep position -> column (empty: natural order)
  std::vector<bool> dead;      // by sweep position: inputs that were always zero
  std::vector<float> u;        // [cols, cols] row-major, upper triangle filled
  double damp_used = 0;        // fraction of the mean diagonal that made H positive definite
  int64_t dead_columns = 0;
};

// Inverts the Hessian h[cols, cols] (symmetric; consumed) for `opts` (its
// damping and activation order). When H + damp is not positive definite the
// damping grows tenfold up to three times; after that Error(SmoothQuantFailed,
// exit 14) names `name`.
LIBQUANT_API GptqInverse gptq_inverse(std::string_view name, std::vector<double> h, int64_t cols,
                                      const GptqOptions& opts);

// Quantizes w[rows, cols] (row-major, [out, in]) with an inverse made by
// gptq_inverse for the same options. Rows are processed in parallel on `pool`
// (null: one thread).
LIBQUANT_API GptqResult gptq_quantize(std::string_view name, const float* w, int64_t rows, const GptqInverse& inv,
                                      const GptqOptions& opts, ThreadPool* pool = nullptr);

// Both steps for one linear.
LIBQUANT_API GptqResult gptq_quantize(std::string_view name, const float* w, int64_t rows, int64_t cols,
                                      std::vector<double> h, const GptqOptions& opts, ThreadPool* pool = nullptr);

// Collects H = 2/n sum x x^T for every linear input a forward pass reports,
// once per distinct input (q/k/v and gate/up share theirs). Only linears
// whose names `wanted` accepts are collected.
class LIBQUANT_API HessianCollector : public calib::LinearHook {
 public:
  explicit HessianCollector(std::vector<std::string> wanted);
  void on_input(const calib::LinearInput& in) override;
  // The Hessian of a weight's input (2/n X^T X, full symmetric); empty when
  // the weight was never seen. Linears that shared an input share the result.
  std::vector<double> hessian(const std::string& weight) const;
  // Which input a weight reads: equal for weights that share a Hessian.
  std::string input_of(const std::string& weight) const;
  int64_t tokens(const std::string& weight) const;
  void clear();

 private:
  struct Sum {
    int64_t cols = 0, tokens = 0;
    std::vector<double> xtx;  // upper triangle filled, [cols, cols]
  };
  std::vector<std::string> wanted_;
  std::map<std::string, std::shared_ptr<Sum>, std::less<>> by_input_, by_weight_;
  // The last input seen, so linears reading the same buffer share one sum.
  const float* last_x_ = nullptr;
  int64_t last_rows_ = 0;
  std::shared_ptr<Sum> last_sum_;
  std::vector<float> scratch_;
};

}  // namespace libquant::methods
