#pragma once
// An importance matrix made on the way: when a GGUF type needs one and none
// is given, it is computed from calibration text (the caller's, else a
// `calibration.txt` next to the model, else the bundled text) and kept in a
// cache directory under a key of the model's and the text's fingerprints, so
// the next quantization of the same model with the same text reuses it.
#include <cstdint>
#include <filesystem>
#include <string>

#include "libquant/core/progress.hpp"
#include "libquant/export.hpp"

namespace libquant::jobs {

struct AutoImatrixOptions {
  std::filesystem::path model;
  std::filesystem::path data;       // empty: <model's folder>/calibration.txt when present, else the bundled text
  std::filesystem::path cache_dir;  // created when missing
  int64_t ctx = 512;
  int64_t chunks = -1;  // -1: every whole chunk of the text
  unsigned threads = 0;
  ProgressSink* progress = nullptr;
};

struct AutoImatrixResult {
  std::filesystem::path path;  // the imatrix (legacy .dat) in the cache
  std::filesystem::path data;  // the text it was computed from (empty: the bundled text)
  std::string key;             // its cache key: SHA-256 of the fingerprints and settings
  bool from_cache = false;     // reused, not computed
  int64_t chunks = 0;          // chunks evaluated (0 when reused)
  double duration_seconds = 0;
};

// The model's fingerprint: for each of its files (a .gguf, or an HF folder's
// config, tokenizer and weight files) its name, size and the SHA-256 of its
// first and last MiB -- seconds for any size, and it changes whenever the
// header, the tokenizer or the shape of the weights does.
LIBQUANT_API std::string model_fingerprint(const std::filesystem::path& model);

LIBQUANT_API AutoImatrixResult cached_importance_matrix(const AutoImatrixOptions& opts);

}  // namespace libquant::jobs
