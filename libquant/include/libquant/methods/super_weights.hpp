#pragma once
// Super weights (Yu et al., "The Super Weight in Large Language Models"): single
// scalars of an early mlp.down_proj whose removal wrecks a model. A forward
// pass shows them as a "super activation": a spike in one output channel of
// ffn_down (the weight's row) at a token where one input channel (its column)
// spikes too, the one product W[row, col] * x[col] making most of the output.
// Plus the saliency mask: the top fraction of every weight by |w| * sqrt(imatrix).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/export.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::methods {

class ImportanceMatrix;

struct SuperWeight {
  std::string tensor;  // "blk.1.ffn_down.weight"
  int layer = 0;
  int64_t row = 0, col = 0;    // W[row, col]: row = output (hidden) channel, col = input (intermediate) channel
  float value = 0;             // the weight
  float activation = 0;        // |ffn_down output| at the spike
  float input_activation = 0;  // |ffn_down input| in column col at that token
  float share = 0;             // fraction of the output spike this one product makes
  // "activation_spike": found by its super activation in the pass;
  // "isolated_weight": a scalar >= min_isolation x the median magnitude of
  // both its row and its column (activation = |w| x the column's max |x|).
  std::string kind;
};

struct SuperWeightCriteria {
  // The output spike must exceed this multiple of the layer's median
  // per-channel maximum, the weight this multiple of its column's RMS, and
  // its product this fraction of the spike.
  double min_spike_ratio = 5.0;
  double min_weight_ratio = 10.0;
  double min_share = 0.5;
  double min_isolation = 100.0;
  int max_layers = -1;  // early layers only (-1 = all); the paper finds them in the first few
};

// Collects ffn_down inputs and outputs during a forward pass and keeps, per
// layer, the candidate coordinates; `finish()` checks them against the weights.
class LIBQUANT_API SuperWeightFinder final : public calib::LinearHook {
 public:
  SuperWeightFinder(const model::TensorSource& source, SuperWeightCriteria criteria = {});
  void on_input(const calib::LinearInput& in) override;
  void on_output(const calib::LinearOutput& out) override;
  bool wants_outputs() const override { return true; }
  std::vector<SuperWeight> finish() const;

 private:
  struct Spike {
    float activation = 0, input_activation = 0;
    int64_t row = -1, col = -1;
    std::vector<float> x;  // the ffn_down input row at the spiking token
  };
  struct LayerStats {
    std::vector<float> channel_max;   // per output channel, max |y| over tokens
    std::vector<float> input_max;     // per input channel, max |x| over tokens
    std::map<int64_t, Spike> spikes;  // per output channel: its largest spike
  };
  void isolated_outliers(int layer, const std::string& name, const float* W, int64_t rows, int64_t cols,
                         const LayerStats& L, std::vector<SuperWeight>& found) const;
  const model::TensorSource& src_;
  SuperWeightCriteria crit_;
  std::map<int, LayerStats> layers_;
  std::vector<float> last_input_;
  int64_t last_cols_ = 0;
};

// Every 2-D weight covered by the imatrix: the flat indices (row * cols + col)
// of its top ceil(coverage * numel) entries by |w| * sqrt(mean x^2 of the column).
struct SaliencyMask {
  double coverage = 0;
  std::map<std::string, std::vector<int64_t>> indices;        // per tensor, ascending
  std::map<std::string, std::pair<int64_t, int64_t>> shapes;  // rows, cols
  int64_t total() const;
};
LIBQUANT_API SaliencyMask saliency_mask(const model::TensorSource& source, const ImportanceMatrix& imatrix,
                                        double coverage);

// The JSON file `quantize --protect-super-weights` reads (docs/formats/super-weights.md).
struct SuperWeightsFile {
  std::string model;
  std::vector<SuperWeight> found;
  SaliencyMask mask;
};
// Throws Error(ImatrixInvalid, 10) naming the problem.
LIBQUANT_API SuperWeightsFile parse_super_weights(std::string_view json, const std::string& origin = "super weights");
LIBQUANT_API SuperWeightsFile load_super_weights(const std::filesystem::path& path);
// One super weight as the file's (and analyze's result record's) JSON object.
LIBQUANT_API void write_super_weight(JsonWriter& j, const SuperWeight& s);
LIBQUANT_API void save_super_weights(const std::filesystem::path& path, const std::string& model,
                                     const std::vector<SuperWeight>& found, const SaliencyMask& mask);

}  // namespace libquant::methods
