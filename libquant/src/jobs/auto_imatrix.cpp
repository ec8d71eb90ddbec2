#include "libquant/jobs/auto_imatrix.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <vector>

#include "../core/digest.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/jobs/analyze.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

constexpr std::streamoff kEdge = 1 << 20;  // bytes hashed at each end of a file

void hash_file_edges(Digest& d, const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(ErrorCode::ModelNotFound, "cannot read '" + p.string() + "'");
  const auto size = static_cast<std::streamoff>(fs::file_size(p));
  d.update(p.filename().string() + "|" + std::to_string(size) + "|");
  std::vector<char> buf(static_cast<size_t>(std::min(size, kEdge)));
  for (std::streamoff at : {std::streamoff{0}, std::max<std::streamoff>(0, size - kEdge)}) {
    in.seekg(at);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    d.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
}

// The text's own hash (the whole file: calibration texts are small).
std::string text_fingerprint(const fs::path& data) {
  if (data.empty()) return "bundled:" + sha256_hex(eval::default_calibration_text());
  std::ifstream in(data, std::ios::binary);
  if (!in)
    throw Error(ErrorCode::CalibrationDataError, "cannot read calibration data '" + data.string() + "'",
                "Give a readable text file, or none for the bundled text");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return "file:" + sha256_hex(text);
}

fs::path calibration_text_for(const AutoImatrixOptions& o) {
  if (!o.data.empty()) return o.data;
  const fs::path folder = fs::is_directory(o.model) ? o.model : o.model.parent_path();
  std::error_code ec;
  const fs::path beside = folder / "calibration.txt";
  return fs::is_regular_file(beside, ec) ? beside : fs::path();
}

}  // namespace

std::string model_fingerprint(const fs::path& model) {
  Digest d(DigestKind::Sha256);
  std::error_code ec;
  if (!fs::is_directory(model, ec)) {
    hash_file_edges(d, model);
    return d.hex();
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(model)) {
    const std::string name = e.path().filename().string();
    const bool relevant = name == "config.json" || name.rfind("tokenizer", 0) == 0 ||
                          e.path().extension() == ".safetensors" || e.path().extension() == ".gguf";
    if (relevant && e.is_regular_file()) files.push_back(e.path());
  }
  if (files.empty())
    throw Error(ErrorCode::ModelNotFound, "no model files in '" + model.string() + "'",
                "Point at a .gguf file or a Hugging Face checkpoint folder");
  std::sort(files.begin(), files.end());
  for (const auto& f : files) hash_file_edges(d, f);
  return d.hex();
}

AutoImatrixResult cached_importance_matrix(const AutoImatrixOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  AutoImatrixResult r;
  r.data = calibration_text_for(o);
  r.key = sha256_hex("libquant-auto-imatrix-v1\nmodel=" + model_fingerprint(o.model) +
                     "\ntext=" + text_fingerprint(r.data) + "\nctx=" + std::to_string(o.ctx) +
                     "\nchunks=" + std::to_string(o.chunks));
  std::error_code ec;
  fs::create_directories(o.cache_dir, ec);
  if (!fs::is_directory(o.cache_dir, ec))
    throw Error(ErrorCode::General, "cannot create the imatrix cache '" + o.cache_dir.string() + "'",
                "Point the cache at a writable directory");
  r.path = o.cache_dir / (r.key.substr(0, 32) + ".imatrix.dat");
  if (fs::is_regular_file(r.path, ec)) {
    r.from_cache = true;
    log_info("importance matrix from the cache: " + r.path.string());
    return r;
  }
  log_info("no importance matrix given: computing one from " +
           (r.data.empty() ? std::string("the bundled calibration text") : r.data.string()));
  AnalyzeOptions a;
  a.model = o.model;
  a.data = r.data;
  a.output = r.path;
  a.layout = AnalyzeOptions::Layout::Legacy;
  a.ctx = o.ctx;
  a.chunks = o.chunks;
  a.llama_cpp_numerics = false;  // the fast forward pass: only llama-imatrix's last bits differ
  a.threads = o.threads;
  a.progress = o.progress;
  r.chunks = analyze(a).chunks;
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
