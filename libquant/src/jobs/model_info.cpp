#include "libquant/jobs/model_info.hpp"
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/io/gptq_awq_config.hpp"

#include <algorithm>
#include <map>

#include "libquant/core/error.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/io/safetensors.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {

namespace fs = std::filesystem;

namespace {
// One line for a quantization_config (compressed-tensors, GPTQ or AWQ).
std::string describe_quantization(const std::string& json) {
  const std::string method = io::quant_method_of(json);
  if (method == "gptq" || method == "awq") {
    const auto c = io::parse_gptq_awq_config(json);
    std::string out = method == "gptq" ? "GPTQ" : "AWQ GEMM";
    out += ", weights int" + std::to_string(c.bits) + (c.symmetric ? " symmetric" : " asymmetric");
    return out + (c.group_size > 0 ? ", groups of " + std::to_string(c.group_size) : std::string(", per channel"));
  }
  const auto qc = io::parse_compressed_tensors_config(json);
  std::string out = "compressed-tensors " + qc.format;
  if (qc.groups.empty()) return out;
  const io::CtScheme& g = qc.groups.front();
  if (io::is_runnable_w8a8(g))
    return out + ", W8A8 int8 (weights per channel, activations " +
           (g.input_activations->dynamic ? "dynamic per token" : "static per tensor") + ")";
  if (g.weights) out += ", weights int" + std::to_string(g.weights->num_bits) + " " + g.weights->strategy;
  return out;
}

void copy_sizes(const model::ModelConfig& cfg, ModelInfo& info) {
  info.hidden_size = cfg.hidden_size;
  info.num_layers = cfg.num_layers;
  info.num_heads = cfg.num_heads;
  info.num_kv_heads = cfg.num_kv_heads;
  info.vocab_size = cfg.vocab_size;
  info.num_experts = cfg.num_experts;
  info.num_experts_used = cfg.num_experts_used;
  info.ssm_heads = cfg.ssm_heads;
  info.ssm_head_dim = cfg.ssm_head_dim();
  info.ssm_state_size = cfg.ssm_state_size;
  info.ssm_groups = cfg.ssm_groups;
  for (uint8_t r : cfg.recurrent_layers) info.recurrent_layers += r != 0;
}

// An HF checkpoint of a family we cannot convert: what its config and its
// safetensors headers say, and why nothing more is possible.
ModelInfo inspect_unsupported_hf(const fs::path& path, const Error& why) {
  ModelInfo info;
  const model::ModelConfig cfg = model::describe_hf_config(
      read_whole_file(path / "config.json", ErrorCode::ValidationFailed, "config.json", 64u << 20));
  info.format = "hf";
  info.model_name = fs::absolute(path).lexically_normal().filename().string();
  info.architecture = cfg.architecture;
  copy_sizes(cfg, info);
  info.dtype = cfg.torch_dtype;
  info.note = std::string(why.what()) + " (" + why.suggestion() + ")";
  const io::SafetensorsCheckpoint ckpt(path);
  for (const auto& loc : ckpt.tensors()) {
    const auto& e = *loc.entry;
    info.parameter_count += e.shape.numel();
    info.tensors.push_back({e.name, std::string(traits(e.dtype).name), e.shape, e.end - e.begin});
  }
  info.file_size = ckpt.total_bytes();
  if (info.parameter_count)
    info.bits_per_weight = 8.0 * static_cast<double>(info.file_size) / static_cast<double>(info.parameter_count);
  return info;
}

}  // namespace

ModelInfo inspect_model(const fs::path& path) {
  std::unique_ptr<model::TensorSource> src;
  try {
    src = model::open_tensor_source(path);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::UnsupportedConversion || !fs::is_regular_file(path / "config.json")) throw;
    return inspect_unsupported_hf(path, e);
  }
  ModelInfo info;
  model::ModelConfig cfg;
  if (const auto* hf = model::hf_config(*src)) {
    cfg = *hf;
    info.format = "hf";
    info.model_name = fs::absolute(path).lexically_normal().filename().string();
    info.dtype = cfg.torch_dtype;
    if (!cfg.quantization_config.empty()) info.quantization = describe_quantization(cfg.quantization_config);
    for (const auto& de : fs::directory_iterator(path))
      if (de.path().extension() == ".safetensors") info.file_size += de.file_size();
  } else {
    const io::GgufHeader& h = *model::gguf_header(*src);
    cfg = model::config_from_gguf(h);
    const bool littlebit = src->kind() == model::SourceKind::LittleBit;
    info.format = littlebit ? "littlebit" : "gguf";
    if (littlebit) info.quantization = "LittleBit factorized linears (see `littlebit info`)";
    const io::GgufValue* name = h.find("general.name");
    info.model_name = name && name->type() == io::GgufType::String ? name->as_string() : path.stem().string();
    info.file_size = fs::file_size(path);
    if (const io::GgufValue* ft = h.find("general.file_type"); ft && !littlebit)
      info.dtype = std::string(model::file_type_name(static_cast<uint32_t>(ft->as_uint())));
  }
  info.architecture = info.format != "hf" ? cfg.model_type : cfg.architecture;
  copy_sizes(cfg, info);
  std::map<DType, uint64_t> by_type;
  for (const auto& t : src->tensors()) {
    info.parameter_count += t.shape.numel();
    by_type[t.dtype] += t.shape.numel();
    info.tensors.push_back({t.name, std::string(traits(t.dtype).name), t.shape, t.nbytes});
  }
  if (info.dtype.empty() && !by_type.empty()) {
    const auto it =
        std::max_element(by_type.begin(), by_type.end(), [](auto& a, auto& b) { return a.second < b.second; });
    info.dtype = info.format != "hf" ? std::string(traits(it->first).name) : std::string(torch_dtype_name(it->first));
  }
  // A .littlebit file's factorized tensors are presented as f32: count what is stored.
  // Packed HF weights are presented as the f32 they decode to: count the files instead.
  const uint64_t stored = info.format == "gguf" ? src->total_bytes() : info.file_size;
  if (info.parameter_count)
    info.bits_per_weight = 8.0 * static_cast<double>(stored) / static_cast<double>(info.parameter_count);
  return info;
}

}  // namespace libquant::jobs
