#pragma once
// SmoothQuantQuantizer (Xiao et al., arXiv 2211.10438): per input channel j
// of the linears that read one RMSNorm's output, s_j = max|X_j|^α /
// max|W_j|^(1-α); the norm's weight is divided by s and the linears' columns
// multiplied by it, which leaves the model's function unchanged but moves
// activation outliers into the weights, so that both quantize to INT8.
// Then W8A8: int8 symmetric per-output-channel weights and int8 activations
// (dynamic per token, or static per tensor from the calibration maxima).
//
// Beyond the original's one α: `alpha = nullopt` searches each group's α
// (and "no smoothing") for the least INT8 output error on sampled
// calibration activations, then keeps that, no smoothing, or one α for all
// groups, whichever gives the W8A8 model the least KL divergence from the
// float model; the search (and `smooth_down`) adds down_proj's group.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "libquant/calib/channel_max.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/core/tensor.hpp"
#include "libquant/export.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::methods {

// Linears reading the same input, and the tensor that produces that input and
// absorbs 1/s: an RMSNorm weight (divided element-wise) or a linear whose
// output rows are the channels (divided row-wise).
struct SmoothingGroup {
  int layer = 0;
  std::string norm;                  // "blk.0.attn_norm.weight" or "blk.0.ffn_up.weight"
  std::vector<std::string> linears;  // "blk.0.attn_q.weight", ...: columns multiplied by s
};
// Llama-family groups: attn_norm -> q, k, v and ffn_norm -> gate, up, as the
// reference. With `include_down`, also ffn_up -> ffn_down (down_proj's input
// is silu(gate) * up, so dividing up's rows by s divides the input by s): the
// channel where super-weight activations spike, which the reference leaves
// unsmoothed. o_proj is never smoothed.
LIBQUANT_API std::vector<SmoothingGroup> smoothing_groups(int64_t num_layers, bool include_down = false);
// The groups of a family, following where its norms sit: the Llama groups for
// Llama/Qwen/Gemma/Granite; Command-R's one norm feeds q, k, v, gate and up in
// one group; Phi-3's fused attn_qkv and gate|up ffn_up each have their norm
// (its down_proj input has no producer of its own: unsmoothed); OLMo 2 has no
// input norms (only the down group). unsmoothed_inputs() says what is left.
LIBQUANT_API std::vector<SmoothingGroup> smoothing_groups(const model::ModelConfig& cfg, bool include_down = false);
// Sentences naming the linear inputs a family's norms cannot absorb scales for ("" entries never).
LIBQUANT_API std::vector<std::string> unsmoothed_inputs(const model::ModelConfig& cfg, bool include_down);
// Whether a GGUF tensor name is one of the decoder's W8A8-quantized linears.
LIBQUANT_API bool is_w8a8_linear(std::string_view gguf_name) noexcept;

// s_j = max(a_j, 1e-5)^alpha / max(w_j, 1e-5)^(1 - alpha), at least 1e-5
// (the reference implementation's clamps).
LIBQUANT_API std::vector<float> smoothing_scales(std::span<const float> act_max, std::span<const float> weight_col_max,
                                                 double alpha);
// col_max[j] = max(col_max[j], max_i |w[i, j]|) for w[rows, cols].
LIBQUANT_API void update_column_max(const float* w, int64_t rows, int64_t cols, std::vector<float>& col_max);

// Relative INT8 output error of linears on input rows x[rows, cols] after
// smoothing with s (empty: none): the mean over tokens t of
// sum_W ||x_t W^T - deq(Q(x_t / s)) deq(Q_channel(W diag(s)))^T||^2 / sum_W ||x_t W^T||^2.
LIBQUANT_API double w8a8_output_error(std::span<const Tensor* const> weights, const float* x, int64_t rows,
                                      int64_t cols, std::span<const float> s, ThreadPool& pool);

struct SmoothQuantOptions {
  bool smooth = true;                 // false: plain W8A8 ("naive")
  std::optional<double> alpha = 0.5;  // nullopt: per-group search ("auto")
  std::vector<double> alpha_grid;     // empty: 0, 0.05, ..., 1
  bool static_activations = false;    // per-tensor activation scales from calibration
  bool smooth_down = false;           // also smooth down_proj's input through up_proj's rows (always on for the search)
  int64_t sample_rows = 512;          // activation rows per group kept for the search
  // The search's second step: these alphas applied to every group (each must
  // be on alpha_grid), no smoothing, and the per-group choices are compared by
  // the whole W8A8 model's KL divergence from the float model on
  // `eval_samples` calibration sequences. Empty: per-group choices only.
  std::vector<double> uniform_alphas = {0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
  int64_t eval_samples = 4;
  unsigned threads = 0;
};

struct GroupPlan {
  SmoothingGroup group;
  std::optional<double> alpha;   // nullopt: left unsmoothed (the search's choice, or naive)
  std::vector<float> scales;     // s (empty when unsmoothed)
  double error = -1;             // W8A8 output error at the choice (auto only)
  double error_unsmoothed = -1;  // the same without smoothing (auto only)
};

// One whole-model candidate of the search and its mean KL divergence.
struct AlphaCandidate {
  std::string name;  // "per-group search", "no smoothing", "alpha 0.50 everywhere"
  double kl = 0;
};

struct Int8Weight {
  std::vector<int8_t> q;      // [rows, cols]
  std::vector<float> scales;  // per row
};

// How a job makes calibration resumable: the first `done` sequences were
// already folded into `restored` by an interrupted run (with the same samples
// and batch); `after_batch` runs after each batch with the sequences done so
// far, when statistics() can be saved.
struct CalibrationResume {
  size_t done = 0;
  calib::ChannelMaxCollector::State restored;
  std::function<void(size_t done)> after_batch;
};

class LIBQUANT_API SmoothQuantQuantizer {
 public:
  SmoothQuantQuantizer(const model::TensorSource& source, SmoothQuantOptions opts);
  ~SmoothQuantQuantizer();
  SmoothQuantQuantizer(const SmoothQuantQuantizer&) = delete;
  SmoothQuantQuantizer& operator=(const SmoothQuantQuantizer&) = delete;

  // Whether calibrate() is needed (smoothing or static activation scales).
  bool needs_calibration() const noexcept;
  // Forward passes over the samples, `batch` sequences at a time.
  void calibrate(const std::vector<std::vector<int32_t>>& samples, int64_t batch, ProgressSink* progress = nullptr,
                 CalibrationResume* resume = nullptr);
  // The statistics calibrate() collected (null before it ran).
  const calib::ChannelMaxCollector* statistics() const noexcept;
  // Decides s for every group. Throws Error(SmoothQuantFailed) naming the
  // layer when statistics or scales are not finite and positive.
  void plan(ProgressSink* progress = nullptr);
  // Instead of plan(): the decisions an interrupted run made (groups() and
  // candidates() of it). Throws Error(SmoothQuantFailed) when they do not
  // belong to this model and options (other groups, scales of the wrong
  // width, or not finite and positive).
  void restore_plan(std::vector<GroupPlan> groups, std::vector<AlphaCandidate> candidates);
  const std::vector<GroupPlan>& groups() const noexcept;
  // The candidates the search compared (empty unless alpha is nullopt).
  const std::vector<AlphaCandidate>& candidates() const noexcept;

  // A tensor (GGUF name and layout) in f32 after smoothing: norms divided by
  // s, linears' columns multiplied by s, everything else as stored.
  Tensor smoothed_f32(const model::SourceTensor& t) const;
  // A W8A8 linear's smoothed weight in int8 with per-row scales.
  Int8Weight quantize(const model::SourceTensor& t) const;
  // The static activation scale of a linear (only with static_activations).
  float input_scale(const std::string& gguf_name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace libquant::methods
