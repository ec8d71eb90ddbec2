#pragma once
// The calibration side of `quantize ... gguf` with GPTQ error feedback
// (ConvertToGgufOptions::gptq): every target linear, block by block in
// GPTQ's sequential scheme, swept with its GGUF type's codec
// (methods/gptq_codec.hpp). The result is each linear's encoded tensor data,
// which the GGUF writer then stores as it is.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::jobs {

struct GgufGptqTarget {
  const model::SourceTensor* tensor;
  DType type;
  const std::vector<float>* importance;  // the codec's column weights (empty: none)
};

struct GgufGptqOutput {
  std::map<std::string, std::vector<std::byte>> encoded;  // by tensor name
  int64_t calibration_tokens = 0;
  int64_t kept_codec = 0;            // linears whose plain encoding had the smaller layer error
  std::vector<double> error_ratios;  // per linear: layer error with GPTQ / without
  std::vector<std::string> notes;
};

GgufGptqOutput gguf_gptq(const model::TensorSource& src, const model::ModelConfig& cfg,
                         const std::vector<GgufGptqTarget>& targets, const GgufGptqOptions& opts, unsigned threads,
                         ThreadPool& pool, ProgressSink& progress);

// Whether a tensor is one --gptq sweeps: a decoder block's linear weight.
bool gptq_sweeps(const std::string& tensor_name);

}  // namespace libquant::jobs
