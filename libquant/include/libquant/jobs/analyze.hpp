#pragma once
// The job behind `llm-quantize analyze`: an importance matrix from calibration
// text with llama-imatrix's method (the text tokenized with BOS, cut into
// chunks of ctx tokens whose first token becomes BOS, every chunk evaluated
// and every decoder-block linear input accumulated).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/super_weights.hpp"

namespace libquant::jobs {

struct AnalyzeOptions {
  std::filesystem::path model;   // empty: combine `input_imatrices` only
  std::filesystem::path data;    // calibration text, JSON or JSON lines (empty = the bundled default text)
  std::filesystem::path output;  // layout from `layout`, by default .gguf -> GGUF imatrix, else legacy .dat
  enum class Layout { ByExtension, Legacy, Gguf };
  Layout layout = Layout::ByExtension;
  // Existing imatrix files (either layout) merged into the result, as
  // llama-imatrix --in-file. With an empty `model` nothing is computed: the
  // files are only combined (merge) or re-written in the other layout (convert).
  std::vector<std::filesystem::path> input_imatrices;
  std::string dataset_name;  // stored in the file (default: data path as given)
  int64_t ctx = 512;
  int64_t chunks = -1;      // -1 = all whole chunks
  int64_t first_chunk = 0;  // whole chunks of the text skipped first (llama-imatrix --chunk / --from-chunk)
  // Also write the matrix so far to "<output>.at_<chunks>" (same layout) every
  // this many chunks, as llama-imatrix --save-frequency; 0 = never.
  int64_t save_every = 0;
  int64_t batch = 1;  // chunks per forward call
  bool process_output = false;
  bool llama_cpp_numerics = true;  // llama.cpp CPU arithmetic: files equal to llama-imatrix's byte for byte
  unsigned threads = 0;
  // Super weights: a forward pass over the first chunks looking for
  // ffn_down activation spikes, plus the top `coverage` saliency mask; saved
  // as JSON to `super_weights_output` (default: <output>.super_weights.json).
  bool identify_super_weights = false;
  double coverage = 0.0001;
  std::filesystem::path super_weights_output;
  // Durable progress: the partial matrix is saved after every batch of chunks
  // into this directory; `resume` continues from it (CheckpointError when
  // there is no checkpoint of the same job).
  std::optional<std::filesystem::path> checkpoint_dir;
  bool resume = false;
  ProgressHook on_checkpoint;  // after each checkpoint: chunks done (resumed ones included)
  ProgressSink* progress = nullptr;
  static AnalyzeOptions defaults() { return {}; }
};

// Per weight: statistics of its per-column mean x^2.
struct ImportanceStatistics {
  std::string name;
  int64_t columns = 0;
  double min = 0, max = 0, mean = 0, std = 0;
  int64_t top_column = 0;  // the column with the largest mean x^2
};

struct AnalyzeResult {
  std::filesystem::path output_path;
  std::filesystem::path model;  // empty when only imatrix files were combined
  int64_t chunks = 0, entries = 0, tokens = 0;
  int64_t chunks_resumed = 0;
  ImportanceStatistics global;               // over every weight's per-column mean x^2 (name empty)
  std::vector<ImportanceStatistics> layers;  // per weight, in model order
  std::vector<methods::SuperWeight> super_weights;
  std::filesystem::path super_weights_path;  // empty unless identify_super_weights
  int64_t protected_weights = 0;
  double duration_seconds = 0;
};

// Statistics of one set of values (a weight's per-column means, or all of them).
LIBQUANT_API ImportanceStatistics importance_statistics(const std::string& name, const std::vector<float>& values);

LIBQUANT_API AnalyzeResult analyze(const AnalyzeOptions& opts);

}  // namespace libquant::jobs
