#pragma once
// One GGUF tensor at a time from a TensorSource to a GgufWriter: what it
// becomes (TensorPlan) and the streaming quantizer that writes it.
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {

struct TensorPlan {
  const model::SourceTensor* src;
  DType out;
  std::vector<float> importance;  // empty: none; one run of columns per expert for stacked expert weights
  // --protect-super-weights: per row, the columns whose importance is boosted.
  std::map<int64_t, std::vector<int64_t>> boosted;
  float boost = 1.0f;
  // --gptq: the tensor's data as GPTQ's sweep encoded it, written as it is.
  const std::vector<std::byte>* encoded = nullptr;

  // The importance row `row` is quantized with (its expert's, for a stacked expert weight).
  const float* importance_of_row(uint64_t row) const { return methods::importance_of_row(importance, src->shape, row); }
  bool per_expert_importance() const { return importance.size() > static_cast<size_t>(src->shape.row_length()); }
};

// Quantizes one tensor in row chunks (buffers reused across tensors) and
// streams it to the writer. Rejects NaN/Inf weights (whatever the output
// type), naming the tensor and the first bad index.
class TensorStreamer {
 public:
  TensorStreamer(model::TensorSource& src, io::GgufWriter& w, ThreadPool& pool, ProgressHook on_written)
      : src_(src), w_(&w), pool_(pool), on_written_(std::move(on_written)) {}

  // Writes the tensor's bytes (quantized, copied or GPTQ's) as the writer's next tensor.
  void run(const TensorPlan& p);
  // Later tensors go to `w` (a split output's next shard).
  void retarget(io::GgufWriter& w) noexcept { w_ = &w; }

 private:
  // Rows holding protected weights are encoded again with those columns'
  // importance multiplied by the boost (row-local: other rows are unchanged).
  void requantize_boosted(const TensorPlan& p, uint64_t r0, uint64_t n, int64_t n_per_row, uint64_t out_rb);

  void write(std::span<const std::byte> data) {
    w_->write_tensor_part(data);
    written_ += data.size();
    if (on_written_) on_written_(written_);
  }
  template <typename V>
  static void grow(V& v, uint64_t n) {
    if (v.size() < n) v.resize(n);
  }
  model::TensorSource& src_;
  io::GgufWriter* w_;
  ThreadPool& pool_;
  std::vector<std::byte> raw_, enc_;
  std::vector<float> f32_;
  ProgressHook on_written_;
  uint64_t written_ = 0;
};

}  // namespace libquant::jobs
