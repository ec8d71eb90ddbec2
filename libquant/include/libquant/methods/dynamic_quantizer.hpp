#pragma once
// DynamicQuantizer: a GGUF type per tensor chosen from measured damage under a
// size budget. For every allocatable tensor and candidate type the damage is
// the importance-weighted squared quantization error, computed exactly by
// quantizing (a deterministic sample of) its rows with the same encoders that
// write the file:  E = sum_rows sum_j imp_j (w_ij - q(w)_ij)^2,  with imp the
// imatrix's per-column mean x^2, i.e. the expected squared error the tensor
// adds to its layer's output per token. The allocation minimises the summed
// damage subject to sum(bytes) <= budget (multiple-choice knapsack, solved by
// marginal gain per byte along each tensor's lower convex hull, then the
// leftover budget filled by the best upgrades that still fit).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/export.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::methods {

// One candidate encoding of a tensor.
struct QuantOption {
  DType type;
  uint64_t bytes = 0;  // stored bytes, padded to the GGUF alignment
  double error = 0;    // importance-weighted squared error over the whole tensor
};

// An allocatable tensor with its candidates (ascending bytes).
struct TensorOptions {
  std::string name;
  Shape shape;
  std::vector<QuantOption> options;
  double sensitivity = 1.0;  // damage = sensitivity * error
};

struct BitAllocation {
  std::map<std::string, DType> types;
  uint64_t bytes = 0;  // sum of the chosen options' bytes (<= budget)
  double damage = 0;
};

// Types llama.cpp loads and libquant encodes, from 2 to 8.5 bits: the k- and
// i-quants plus the 32-wide legacy types (the only ones that fit rows whose
// length is not a multiple of 256).
LIBQUANT_API std::vector<DType> default_dynamic_candidates();

// Whether `t` can store rows of `n_per_row` elements.
LIBQUANT_API bool fits_row(DType t, int64_t n_per_row) noexcept;

// Bytes of a tensor of `rows` x `n_per_row` in type t, padded to `alignment`.
LIBQUANT_API uint64_t stored_bytes(DType t, int64_t rows, int64_t n_per_row, uint64_t alignment = 32);

// Measures every candidate that fits the rows: `sample` holds `n_sample` rows
// of the tensor (f32), drawn from `total_rows`; the error is scaled up to the
// whole tensor. `importance` (n_per_row, may be null: uniform) is passed to
// the encoders as the file writer does. Dominated options (more bytes, no
// less error) are dropped.
LIBQUANT_API std::vector<QuantOption> measure_options(const float* sample, int64_t n_sample, int64_t total_rows,
                                                      int64_t n_per_row, const float* importance,
                                                      const std::vector<DType>& candidates, ThreadPool* pool = nullptr);

// Minimum-damage choice with sum(bytes) <= budget_bytes. Throws
// InvalidArgument when even the smallest options exceed the budget.
LIBQUANT_API BitAllocation allocate_bits(const std::vector<TensorOptions>& tensors, uint64_t budget_bytes);

}  // namespace libquant::methods
