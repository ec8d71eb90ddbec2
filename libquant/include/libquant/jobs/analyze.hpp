#pragma once
// The job behind `llm-quantize analyze`: an importance matrix from calibration
// text with llama-imatrix's method (the text tokenized with BOS, cut into
// chunks of ctx tokens whose first token becomes BOS, every chunk evaluated
// and every decoder-block linear input accumulated).
#include <cstdint>
#include <filesystem>
#include <string>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"

namespace libquant::jobs {

struct AnalyzeOptions {
  std::filesystem::path model;
  std::filesystem::path data;        // calibration text, JSON or JSON lines (empty = the bundled default text)
  std::filesystem::path output;      // .gguf -> GGUF imatrix, anything else -> legacy .dat
  std::string dataset_name;          // stored in the file (default: data path as given)
  int64_t ctx = 512;
  int64_t chunks = -1;               // -1 = all whole chunks
  int64_t batch = 1;                 // chunks per forward call
  bool process_output = false;
  bool llama_cpp_numerics = true;    // llama.cpp CPU arithmetic: files equal to llama-imatrix's byte for byte
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
  static AnalyzeOptions defaults() { return {}; }
};

struct AnalyzeResult {
  std::filesystem::path output_path;
  int64_t chunks = 0, entries = 0, tokens = 0;
  double min = 0, max = 0, mean = 0, std = 0;  // over every weight's per-column mean x^2
  double duration_seconds = 0;
};

LIBQUANT_API AnalyzeResult analyze(const AnalyzeOptions& opts);

}  // namespace libquant::jobs
