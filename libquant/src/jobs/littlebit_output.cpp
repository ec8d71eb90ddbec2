#include "littlebit_output.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/io/littlebit_file.hpp"
#include "libquant/eval/hf_tokenizer.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/version.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::vector<io::GgufKv> source_metadata(const model::TensorSource& src) {
  if (const io::GgufHeader* h = model::gguf_header(src)) return h->kvs;
  const model::ModelConfig* cfg = model::hf_config(src);
  check(cfg != nullptr, ErrorCode::UnsupportedConversion, "the model has neither GGUF metadata nor an HF config");
  return model::build_gguf_metadata(*cfg, model::LlamaFileType::MostlyF16, src.path().filename().string(),
                                    eval::hf_tokenizer_kvs(src.path(), *cfg));
}

void save_layer_checkpoint(const fs::path& file, const std::vector<std::string>& names,
                           const std::map<std::string, LittleBitFactorsOut>& factors,
                           const std::vector<LittleBitLayerStat>&) {
  io::LittleBitWriter w(file, {});
  w.write_metadata({});
  for (const auto& n : names) {
    const auto& f = factors.at(n);
    w.write_factors(n, f.factors, f.weight_error, f.output_error);
  }
  w.finish();
}

void load_layer_checkpoint(const fs::path& file, const std::vector<std::string>& names,
                           std::map<std::string, LittleBitFactorsOut>& factors,
                           std::vector<LittleBitLayerStat>& stats) {
  io::LittleBitFile f(file);
  for (const auto& n : names) {
    const io::LittleBitTensorInfo* t = f.info().find(n);
    if (!t || t->kind != io::LittleBitTensorKind::Factors)
      throw Error(ErrorCode::CheckpointError, "checkpoint '" + file.string() + "' lacks " + n,
                  "Delete the checkpoint directory and start again");
    LittleBitFactorsOut out{f.factors(*t), t->weight_error, t->output_error};
    stats.push_back({n, t->shape[0], t->shape[1], t->rank, t->paths, out.factors.bpw(), t->weight_error, -1,
                     t->output_error, true});
    factors[n] = std::move(out);
  }
}

namespace {

Tensor narrowed(Tensor f32, DType to) {
  if (to == DType::F32) return f32;
  Tensor out(to, f32.shape());
  const auto n = static_cast<size_t>(f32.shape().numel());
  if (to == DType::F16)
    f32_to_f16(f32.data_as<float>(), out.data_as<uint16_t>(), n);
  else
    f32_to_bf16(f32.data_as<float>(), out.data_as<uint16_t>(), n);
  return out;
}

void write_littlebit_file(const model::TensorSource& src, const LittleBitCompressOptions& o,
                          const std::map<std::string, LittleBitFactorsOut>& factors, const fs::path& path) {
  io::LittleBitFileInfo info;
  info.source_model = o.model.string();
  info.architecture = eval::forward_config(src).architecture;
  info.target_bpw = o.target_bpw;
  info.residual = o.residual;
  info.refinement = !o.refine ? "none" : o.block_options.steps > 0 ? "activation-aware+block" : "activation-aware";
  info.created_by = std::string("llm-quantize ") + version_string();
  info.original_size_bytes = src.total_bytes();
  io::LittleBitWriter w(path, info);
  w.write_metadata(source_metadata(src));
  for (const auto& t : src.tensors()) {
    const double bits = bits_per_weight(t.dtype);
    if (auto it = factors.find(t.name); it != factors.end()) {
      w.write_factors(t.name, it->second.factors, it->second.weight_error, it->second.output_error, bits);
      continue;
    }
    Tensor x = src.read_f32(t);
    src.release(t);
    w.write_dense(t.name, narrowed(std::move(x), t.shape.rank() >= 2 ? o.keep_type : DType::F32), bits);
  }
  w.finish();
}

}  // namespace

void write_compressed(const model::TensorSource& src, const LittleBitCompressOptions& o,
                      const std::map<std::string, LittleBitFactorsOut>& factors, const fs::path& path,
                      LittleBitCompressResult& res) {
  if (o.format == "littlebit") {
    write_littlebit_file(src, o, factors, path);
  } else {
    const fs::path tmp = path.string() + ".littlebit.tmp";
    write_littlebit_file(src, o, factors, tmp);
    try {
      LittleBitConvertOptions c;
      c.input = tmp;
      c.output = path;
      c.format = o.format;
      c.gguf_type = o.lossy_type;
      c.threads = o.threads;
      c.progress = o.progress;
      littlebit_convert(c);
    } catch (...) {
      fs::remove(tmp);
      throw;
    }
    fs::remove(tmp);
  }
  double bits = 0, weights = 0, stored = 0;
  for (const auto& [name, f] : factors) {
    const double mn = static_cast<double>(f.factors.out) * static_cast<double>(f.factors.in);
    bits += f.factors.bpw() * mn;
    weights += mn;
    stored += static_cast<double>(
        io::littlebit_block_layout(f.factors.out, f.factors.in, f.factors.rank, f.factors.path_count()).size);
  }
  res.format = o.format;
  res.source_model = o.model.string();
  res.architecture = eval::forward_config(src).architecture;
  res.target_bpw = o.target_bpw;
  res.achieved_bpw = weights > 0 ? bits / weights : 0;
  res.linear_stored_bpw = weights > 0 ? stored * 8 / weights : 0;
  res.linear_reduction_vs_fp16 = stored > 0 ? weights * 2 / stored : 0;
  res.original_size_bytes = src.total_bytes();
  res.compressed_size_bytes = fs::file_size(path);
  res.compression_ratio = res.compressed_size_bytes ? static_cast<double>(res.original_size_bytes) /
                                                          static_cast<double>(res.compressed_size_bytes)
                                                    : 0;
}

StagedOutput::StagedOutput(fs::path target) : target_(std::move(target)) {
  const fs::path dir = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
  check(fs::is_directory(dir), ErrorCode::General, "output directory '" + dir.string() + "' does not exist",
        "Create it first, or write elsewhere");
  std::string name = target_.filename().string();
  name.insert(name.begin(), '.');
  name.append(".staging");
  staging_ = dir / name;
}

StagedOutput::~StagedOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(staging_, ec);
  }
}

void StagedOutput::commit() {
  fs::rename(staging_, target_);
  committed_ = true;
}

void raise_worst_ranks(const std::vector<LittleBitLayerStat>& layers, std::map<std::string, double>& rank_scale) {
  std::vector<const LittleBitLayerStat*> order;
  order.reserve(layers.size());
  for (const auto& l : layers) order.push_back(&l);
  const auto damage = [](const LittleBitLayerStat* l) {
    return l->output_error >= 0 ? l->output_error : l->weight_error;
  };
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return damage(a) > damage(b); });
  const size_t n = (order.size() + 3) / 4;
  for (size_t i = 0; i < n; ++i) {
    auto [it, fresh] = rank_scale.emplace(order[i]->name, 1.0);
    it->second *= 1.5;
  }
}

}  // namespace libquant::jobs
