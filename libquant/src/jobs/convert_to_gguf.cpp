#include "libquant/jobs/convert_to_gguf.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "libquant/model/tensor_source.hpp"
#include "peak_memory.hpp"
#include "tensor_order.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;
using model::LlamaFileType;

namespace {

LlamaFileType file_type_for(DType t) {
  switch (t) {
    case DType::F32: return LlamaFileType::AllF32;
    case DType::F16: return LlamaFileType::MostlyF16;
    case DType::BF16: return LlamaFileType::MostlyBF16;
    case DType::Q8_0: return LlamaFileType::MostlyQ8_0;
    default:
      throw Error(ErrorCode::InvalidArgument, "conversion target must be F32, F16, BF16 or Q8_0");
  }
}

// Metadata for a GGUF input: its keys, with file_type and quantization_version
// moved to the end with new values (as llama-quantize does).
std::vector<io::GgufKv> requantize_metadata(const io::GgufHeader& in, LlamaFileType ft) {
  std::vector<io::GgufKv> kvs;
  for (const auto& kv : in.kvs)
    if (kv.key != "general.file_type" && kv.key != "general.quantization_version" && kv.key.rfind("split.", 0) != 0)
      kvs.push_back(kv);
  kvs.push_back({"general.quantization_version", io::GgufValue::u32(2)});
  kvs.push_back({"general.file_type", io::GgufValue::u32(static_cast<uint32_t>(ft))});
  return kvs;
}

std::string dominant_dtype(const model::TensorSource& src) {
  std::map<DType, uint64_t> count;
  for (const auto& t : src.tensors()) count[t.dtype] += t.shape.numel();
  if (count.empty()) return "unknown";
  const auto it = std::max_element(count.begin(), count.end(), [](auto& a, auto& b) { return a.second < b.second; });
  return std::string(torch_dtype_name(it->first));
}

}  // namespace

DType conversion_type_for(std::string_view gguf_name, const Shape& shape, DType target) {
  const bool is_norm = gguf_name.size() > 12 && gguf_name.substr(gguf_name.size() - 12) == "_norm.weight";
  if (shape.rank() <= 1 || is_norm) return DType::F32;
  if (target == DType::Q8_0 && shape.row_length() % 32 != 0) return DType::F16;
  return target;
}

ConvertToGgufResult convert_to_gguf(const ConvertToGgufOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const LlamaFileType ftype = file_type_for(opts.target);
  auto src = model::open_tensor_source(opts.input);
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();

  std::vector<io::GgufKv> kvs;
  ConvertToGgufResult res;
  if (const model::ModelConfig* cfg = model::hf_config(*src)) {
    std::string name = opts.model_name.empty() ? fs::absolute(opts.input).lexically_normal().filename().string() : opts.model_name;
    if (name.empty()) name = fs::absolute(opts.input).lexically_normal().parent_path().filename().string();
    kvs = model::build_gguf_metadata(opts.input, *cfg, ftype, name);
    res.layers_processed = cfg->num_layers;
  } else {
    const io::GgufHeader& in = *model::gguf_header(*src);
    kvs = requantize_metadata(in, ftype);
    res.layers_processed = model::config_from_gguf(in).num_layers;
  }

  const std::vector<const model::SourceTensor*> order = llama_tensor_order(*src);
  std::vector<std::pair<std::string, std::pair<DType, Shape>>> specs;
  for (const auto* t : order) {
    const DType out = conversion_type_for(t->name, t->shape, opts.target);
    if (!gguf::can_dequantize(t->dtype) && t->dtype != out)
      throw Error(ErrorCode::UnsupportedConversion, "tensor '" + t->name + "' is stored as " +
                                                        std::string(traits(t->dtype).name) + ", which cannot be converted yet");
    specs.push_back({t->name, {out, t->shape}});
  }

  io::GgufWriter writer(opts.output, std::move(kvs), specs);
  ThreadPool pool(opts.threads);
  // Tensors stream through in row chunks with buffers reused across chunks
  // and tensors: memory stays at a few chunks whatever the model size, and no
  // fresh pages are faulted in per tensor.
  constexpr uint64_t kChunkElements = uint64_t{1} << 18;  // ~1 MiB of f32: stays in cache
  std::vector<std::byte> raw_buf, enc_buf;
  std::vector<float> f32_buf;
  progress.begin("Converting", order.size(), "tensors");
  for (size_t i = 0; i < order.size(); ++i) {
    const model::SourceTensor& t = *order[i];
    const DType out = specs[i].second.first;
    const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
    const auto n_per_row = static_cast<int64_t>(t.shape.rank() <= 1 ? t.shape.numel() : t.shape.row_length());
    const uint64_t src_rb = rows ? t.nbytes / rows : 0;
    const uint64_t out_rb = row_bytes(out, n_per_row);
    const uint64_t chunk_rows = std::max<uint64_t>(1, kChunkElements / std::max<int64_t>(1, n_per_row));
    for (uint64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
      const uint64_t n = std::min(chunk_rows, rows - r0);
      if (raw_buf.size() < n * src_rb) raw_buf.resize(n * src_rb);
      src->read_rows(t, r0, n, raw_buf.data());
      if (t.dtype == out) {
        writer.write_tensor_part({raw_buf.data(), n * src_rb});
        continue;
      }
      if (f32_buf.size() < n * static_cast<uint64_t>(n_per_row)) f32_buf.resize(n * static_cast<uint64_t>(n_per_row));
      if (enc_buf.size() < n * out_rb) enc_buf.resize(n * out_rb);
      pool.parallel_for(static_cast<size_t>(n), 16, [&](size_t a, size_t b) {
        float* f = f32_buf.data() + a * static_cast<size_t>(n_per_row);
        const auto nr = static_cast<int64_t>(b - a);
        gguf::dequantize(t.dtype, raw_buf.data() + a * src_rb, f, nr * n_per_row);
        gguf::quantize_rows(out, f, enc_buf.data() + a * out_rb, nr, n_per_row);
      });
      writer.write_tensor_part({enc_buf.data(), n * out_rb});
    }
    res.tensors.push_back({t.name, out, t.shape});
    progress.update(i + 1, t.name);
  }
  progress.end();
  writer.finish();

  res.output_path = opts.output;
  res.file_size = fs::file_size(opts.output);
  res.original_size = src->total_bytes();
  res.original_dtype = dominant_dtype(*src);
  res.parameter_count = src->parameter_count();
  res.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_memory_bytes = peak_rss_bytes();
  return res;
}

}  // namespace libquant::jobs
