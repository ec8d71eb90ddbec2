#pragma once
// Pieces of the LittleBit jobs that are not the factorization itself:
// per-layer checkpoint files, writing the compressed model in each format,
// the staging path the output waits in until validation passes, and the
// quality loop's rank raises.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {

struct LittleBitFactorsOut {
  cpu::LittleBitFactors factors;
  double weight_error = -1, output_error = -1;
};

// One decoder layer's factors as a small .littlebit file (checksummed like the output).
void save_layer_checkpoint(const std::filesystem::path& file, const std::vector<std::string>& names,
                           const std::map<std::string, LittleBitFactorsOut>& factors,
                           const std::vector<LittleBitLayerStat>& stats);
void load_layer_checkpoint(const std::filesystem::path& file, const std::vector<std::string>& names,
                           std::map<std::string, LittleBitFactorsOut>& factors, std::vector<LittleBitLayerStat>& stats);

// Writes the model (factorized weights + kept tensors) to `path` in opts.format
// and fills the result's sizes and bits per weight.
void write_compressed(const model::TensorSource& src, const LittleBitCompressOptions& opts,
                      const std::map<std::string, LittleBitFactorsOut>& factors, const std::filesystem::path& path,
                      LittleBitCompressResult& res);

// GGUF metadata for a source (its own keys for GGUF, converted ones for HF).
std::vector<io::GgufKv> source_metadata(const model::TensorSource& src);

// The output is written to a hidden sibling first and renamed over the
// target by commit(); it is removed if commit() is never reached.
class StagedOutput {
 public:
  explicit StagedOutput(std::filesystem::path target);
  ~StagedOutput();
  const std::filesystem::path& path() const noexcept { return staging_; }
  void commit();

 private:
  std::filesystem::path target_, staging_;
  bool committed_ = false;
};

// Multiplies the rank of the worst quarter of the weights (by output error,
// else weight error) by 1.5.
void raise_worst_ranks(const std::vector<LittleBitLayerStat>& layers, std::map<std::string, double>& rank_scale);

std::string format_number(double v);

}  // namespace libquant::jobs
