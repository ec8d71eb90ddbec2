#pragma once
// The job behind `llm-quantize quantize MODEL gguf -q F32|F16|BF16|Q8_0`:
// stream an HF checkpoint (or a GGUF file) into a GGUF file, one tensor at a
// time, with peak memory bounded by the largest tensor.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/export.hpp"

namespace libquant::jobs {

struct ConvertToGgufOptions {
  std::filesystem::path input;
  std::filesystem::path output;      // the .gguf file to write
  DType target = DType::F16;         // F32, F16, BF16 or Q8_0
  unsigned threads = 0;              // 0 = all cores
  ProgressSink* progress = nullptr;  // null = silent
  std::string model_name;            // general.name (default: directory name)

  static ConvertToGgufOptions defaults() { return {}; }
};

struct ConvertedTensor {
  std::string name;
  DType type;
  Shape shape;
};

struct ConvertToGgufResult {
  std::filesystem::path output_path;
  uint64_t file_size = 0;
  uint64_t original_size = 0;        // bytes of tensor data in the input
  std::string original_dtype;
  double duration_seconds = 0;
  uint64_t peak_memory_bytes = 0;    // peak RSS of the process
  int64_t layers_processed = 0;
  uint64_t parameter_count = 0;
  std::vector<ConvertedTensor> tensors;
};

LIBQUANT_API ConvertToGgufResult convert_to_gguf(const ConvertToGgufOptions& opts);

// The type convert_hf_to_gguf.py would pick for a tensor under `target`:
// 1-D tensors and norms stay F32; Q8_0 falls back to F16 when a row does not
// divide into 32-element blocks.
LIBQUANT_API DType conversion_type_for(std::string_view gguf_name, const Shape& shape, DType target);

}  // namespace libquant::jobs
