#pragma once
// Calibration data for imatrix, SmoothQuant, GPTQ, AWQ and LittleBit: plain
// text, a JSON array (of strings or of objects with a "text" field), JSON
// lines with a "text" field, or the bundled default text. It is tokenized
// with the model's tokenizer and cut into samples of `seq_len` tokens.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/eval/tokenizer.hpp"
#include "libquant/export.hpp"

namespace libquant::eval {

struct CalibrationOptions {
  std::filesystem::path source;  // empty = the bundled default text
  int64_t samples = 512;         // number of sequences wanted
  int64_t seq_len = 512;         // tokens per sequence
  uint64_t seed = 0;             // 0 = the first `samples` chunks in order (as llama-imatrix); else a seeded pick
  bool allow_fewer = false;      // accept fewer samples than asked when the text is short
};

// Documents of a calibration file, in order. Throws CalibrationDataError (15)
// for unreadable files, malformed JSON and JSON without text.
LIBQUANT_API std::vector<std::string> read_calibration_documents(const std::filesystem::path& source);
// The same from file contents; `kind` is "json", "jsonl" or "text" (by extension above).
LIBQUANT_API std::vector<std::string> parse_calibration_documents(const std::string& content, std::string_view kind,
                                                                  const std::string& name = "calibration data");
// The bundled default text (written for this project; mixed English prose).
LIBQUANT_API const std::string& default_calibration_text();

// Token sequences of exactly seq_len tokens (BOS first when the tokenizer
// adds one). Throws CalibrationDataError when the text yields no full sample,
// or fewer than `samples` unless allow_fewer.
LIBQUANT_API std::vector<std::vector<int32_t>> load_calibration_samples(const Tokenizer& tok,
                                                                        const CalibrationOptions& opts);

}  // namespace libquant::eval
