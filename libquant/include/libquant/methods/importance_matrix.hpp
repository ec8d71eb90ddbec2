#pragma once
// ImportanceMatrix: for every linear weight, per-input-column sums of squared
// activations over calibration tokens (what llama.cpp calls an imatrix), with
// both llama.cpp file layouts: the legacy `.dat` and the GGUF-based imatrix.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/export.hpp"

namespace libquant::methods {

struct LIBQUANT_API ImatrixEntry {
  std::string name;         // GGUF weight name, e.g. "blk.0.attn_q.weight"
  std::vector<float> sums;  // per input column: sum of x^2 (f32, accumulated in token order as llama.cpp)
  int64_t count = 0;        // activation rows (tokens) seen
  int64_t ncall = 0;        // forward calls that contributed (chunks)
  // A stacked expert weight ("blk.0.ffn_up_exps.weight"): the rows each
  // expert saw; `sums` then holds one run of columns per expert and `count`
  // their total. Empty for every other weight.
  std::vector<int64_t> expert_counts;
  // Per-column mean of x^2 (per expert and column for expert weights; 1 for
  // an expert that saw no token, as llama-quantize reads partial data): what
  // quantizers weight errors by.
  std::vector<float> mean() const;
};

class LIBQUANT_API ImportanceMatrix {
 public:
  // Adds rows x cols activations (row-major) for `weight`.
  // `calls` is how many llama.cpp evaluation calls these rows stand for (the
  // number of chunks batched together), so that ncall matches llama-imatrix.
  void accumulate(std::string_view weight, const float* x, int64_t rows, int64_t cols, int64_t calls = 1);
  // The same for the rows expert `expert` (of `n_experts`) of a stacked expert weight receives.
  void accumulate_expert(std::string_view weight, int expert, int n_experts, const float* x, int64_t rows,
                         int64_t cols);
  // Adds another matrix's statistics (same columns required per weight).
  void merge(const ImportanceMatrix& other);

  const std::vector<ImatrixEntry>& entries() const noexcept { return entries_; }
  const ImatrixEntry* find(std::string_view weight) const noexcept;
  // Drops the entries `drop` selects (the others keep their order); returns how many went.
  size_t erase_if(const std::function<bool(const ImatrixEntry&)>& drop);
  int64_t chunks = 0;                 // chunks processed (llama.cpp's last_call / chunk_count)
  int64_t chunk_size = 0;             // tokens per chunk
  std::vector<std::string> datasets;  // calibration file names

  // Puts the entries in the order llama-imatrix writes them: the iteration
  // order of its std::unordered_map filled in first-use order (libstdc++'s
  // hashing and bucket policy), so our legacy files equal its byte for byte.
  void order_as_llama_imatrix();

  // llama.cpp legacy layout (i32 counts; values stored as mean * ncall; trailer
  // with chunk count and dataset name). Entries keep their order on a round trip.
  void save_legacy(const std::filesystem::path& path) const;
  static ImportanceMatrix load_legacy(const std::filesystem::path& path);
  // GGUF layout: general.type = imatrix, imatrix.datasets / chunk_count /
  // chunk_size, tensors `<weight>.in_sum2` [cols] and `<weight>.counts` [1]
  // ([experts, cols] and [experts, 1] for expert weights).
  // llama.cpp sorts the tensors by name; `keep_order` writes them in entry
  // order instead (checkpoints, so a resumed run keeps first-use order).
  void save_gguf(const std::filesystem::path& path, bool keep_order = false) const;
  static ImportanceMatrix load_gguf(const std::filesystem::path& path);
  // Either layout, by content. Throws ImatrixInvalid (10) for missing or corrupt files.
  static ImportanceMatrix load(const std::filesystem::path& path);
  // Parse a legacy image from memory (fuzzing, tests).
  static ImportanceMatrix parse_legacy(std::span<const std::byte> bytes);

 private:
  ImatrixEntry& entry(std::string_view weight, int64_t cols);
  std::vector<ImatrixEntry> entries_;
  std::map<std::string, size_t, std::less<>> index_;
};

// A calibration hook that feeds an ImportanceMatrix, as llama-imatrix's
// collector does: weights of decoder blocks (and the output matrix when
// asked), activation batches of at least 16 rows, and every expert's rows
// however few (llama-imatrix collects all indirect matrix products).
class LIBQUANT_API ImatrixCollector final : public calib::LinearHook {
 public:
  explicit ImatrixCollector(ImportanceMatrix& m, bool process_output = false) : m_(m), output_(process_output) {}
  void on_input(const calib::LinearInput& in) override;
  bool wants_output_layer() const override { return output_; }
  bool wants_experts() const override { return true; }
  void set_calls_per_forward(int64_t n) noexcept { calls_ = n; }

 private:
  ImportanceMatrix& m_;
  bool output_;
  int64_t calls_ = 1;
};

// Importance of a stacked expert weight ([experts, rows, cols]): one run of
// columns per expert. How many runs a tensor of `shape` takes (its experts; 1
// for any other weight), and the run row `row` (counted across the stack) is
// weighted by: null for empty `importance`, the whole vector when it holds
// one run.
LIBQUANT_API int64_t importance_runs(const Shape& shape) noexcept;
LIBQUANT_API const float* importance_of_row(std::span<const float> importance, const Shape& shape,
                                            uint64_t row) noexcept;

}  // namespace libquant::methods
