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
  progress.begin("Converting", order.size(), "tensors");
  for (size_t i = 0; i < order.size(); ++i) {
    const model::SourceTensor& t = *order[i];
    const DType out = specs[i].second.first;
    if (t.dtype == out) {
      const Tensor raw = src->read_raw(t);
      writer.write_tensor({raw.data(), raw.nbytes()});
    } else {
      const Tensor f = src->read_f32(t);
      Tensor enc(out, t.shape);
      const int64_t n_per_row = t.shape.row_length();
      const auto n_rows = static_cast<int64_t>(t.shape.rows());
      const uint64_t rb = row_bytes(out, n_per_row);
      pool.parallel_for(static_cast<size_t>(n_rows), 16, [&](size_t r0, size_t r1) {
        gguf::quantize_rows(out, f.data_as<float>() + r0 * n_per_row, enc.data() + r0 * rb,
                            static_cast<int64_t>(r1 - r0), n_per_row);
      });
      writer.write_tensor({enc.data(), enc.nbytes()});
    }
    src->release(t);
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
