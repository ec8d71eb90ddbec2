#include "hf_output.hpp"

#include <fstream>
#include <span>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs::hf_output {
namespace fs = std::filesystem;

void require_transformer_blocks(const model::ModelConfig& cfg, const std::string& job) {
  check(cfg.arch() != nullptr && cfg.arch()->hf_checkpoints, ErrorCode::UnsupportedConversion,
        job + " of " + cfg.architecture + " is not supported (no Hugging Face layout here)",
        "Supported: " + model::supported_architectures());
  const char* kind = cfg.is_moe()                  ? "mixture-of-experts"
                     : cfg.arch()->gated_delta_net ? "hybrid linear-attention (gated DeltaNet)"
                     : cfg.is_ssm()                ? "state-space (Mamba-2)"
                                                   : nullptr;
  if (kind)
    throw Error(ErrorCode::UnsupportedConversion,
                job + " of " + kind + " models (" + cfg.architecture + ") is not supported yet",
                "Quantize it to GGUF instead (quantize MODEL gguf), which covers every layer of it");
}

bool config_only_tensor(const std::string& gguf_name) noexcept {
  return gguf_name == "rope_freqs.weight" || gguf_name.starts_with("rope_factors_");
}

std::string hf_name_of(const std::string& gguf_name, const model::ArchitectureInfo* arch) {
  auto hf = model::gguf_to_hf_name(gguf_name, arch);
  check(hf.has_value(), ErrorCode::UnsupportedConversion, "tensor '" + gguf_name + "' has no Hugging Face name",
        "The model has tensors this architecture table does not know");
  return *hf;
}

DType checkpoint_dtype(const model::TensorSource& src, const model::ModelConfig& cfg) {
  if (model::hf_config(src)) {
    if (cfg.torch_dtype == "float16") return DType::F16;
    if (cfg.torch_dtype == "bfloat16") return DType::BF16;
    return DType::F32;
  }
  const model::SourceTensor* emb = src.find("token_embd.weight");
  if (emb && (emb->dtype == DType::F16 || emb->dtype == DType::BF16)) return emb->dtype;
  return DType::F32;
}

std::vector<std::byte> encode_floats(const float* v, size_t n, DType dt) {
  std::vector<std::byte> out(storage_bytes(dt, n));
  gguf::quantize_rows(dt, v, out.data(), 1, static_cast<int64_t>(n));
  return out;
}

std::vector<std::byte> to_hf_rows(std::vector<std::byte> data, const std::string& gguf_name, int64_t rows,
                                  const model::ModelConfig& cfg) {
  const auto kind = cfg.arch()->permute_qk ? model::qk_permute_kind(gguf_name) : model::QkPermute::None;
  if (kind == model::QkPermute::None || rows <= 1) return data;
  std::vector<std::byte> out(data.size());
  model::unpermute_qk_rows(data.data(), out.data(), rows, data.size() / static_cast<size_t>(rows),
                           kind == model::QkPermute::Query ? cfg.num_heads : cfg.num_kv_heads);
  return out;
}

std::vector<std::byte> hf_float_bytes(Tensor f, const model::SourceTensor& t, const model::ModelConfig& cfg, DType dt) {
  // Gemma's norms: the forward (and GGUF) scale by the stored weight, HF stores it minus one.
  if (cfg.arch()->unit_offset_norms && t.name.ends_with("norm.weight"))
    for (float& v : std::span(f.data_as<float>(), f.shape().numel())) v -= 1.0f;
  const auto rows = static_cast<int64_t>(t.shape.rank() <= 1 ? t.shape.numel() : t.shape.rows());
  return to_hf_rows(encode_floats(f.data_as<float>(), f.shape().numel(), dt), t.name, rows, cfg);
}

namespace {
std::vector<float> float_values(const model::TensorSource& src, const std::string& name) {
  const model::SourceTensor* t = src.find(name);
  if (!t) return {};
  const Tensor f = src.read_f32(*t);
  return {f.data_as<float>(), f.data_as<float>() + f.shape().numel()};
}
}  // namespace

std::string config_json_for(const model::TensorSource& src, const model::ModelConfig& cfg, DType dt) {
  if (model::hf_config(src))
    return read_whole_file(src.path() / "config.json", ErrorCode::ValidationFailed, "config.json");
  model::ModelConfig c = cfg;
  c.torch_dtype = std::string(torch_dtype_name(dt));
  c.rope_long_factors = float_values(src, "rope_factors_long.weight");  // Phi-3's LongRoPE lives in tensors
  c.rope_short_factors = float_values(src, "rope_factors_short.weight");
  return model::hf_config_json(c);
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
  check(static_cast<bool>(f), ErrorCode::General, "cannot write '" + p.string() + "'");
}

std::optional<std::string> write_tokenizer(const model::TensorSource& src, const fs::path& dir) {
  if (model::hf_config(src)) {
    for (const char* f :
         {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
          "generation_config.json", "added_tokens.json", "vocab.json", "merges.txt", "chat_template.jinja"})
      if (fs::exists(src.path() / f)) {
        fs::copy_file(src.path() / f, dir / f, fs::copy_options::overwrite_existing);
        fs::permissions(dir / f, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
      }
    return std::nullopt;
  }
  const io::GgufHeader* h = model::gguf_header(src);
  const io::GgufValue* kind = h ? h->find("tokenizer.ggml.model") : nullptr;
  if (kind && kind->as_string() == "llama") {
    write_text(dir / "tokenizer.model", eval::sentencepiece_proto_from_gguf(*h));
    return std::nullopt;
  }
  return "no tokenizer files written: the GGUF vocabulary (" + (kind ? kind->as_string() : std::string("none")) +
         ") has no Hugging Face equivalent we can rebuild; copy tokenizer.json from the original model";
}

std::vector<std::vector<int32_t>> calibration_samples(const model::TensorSource& src, const fs::path& text,
                                                      int64_t samples, int64_t seq_len,
                                                      std::vector<std::string>& notes) {
  auto tok = eval::load_tokenizer(src);
  eval::CalibrationOptions co;
  co.source = text;
  co.samples = samples;
  co.seq_len = seq_len;
  co.allow_fewer = true;
  auto out = eval::load_calibration_samples(*tok, co);
  if (static_cast<int64_t>(out.size()) < samples)
    notes.push_back("the calibration text gave " + std::to_string(out.size()) + " samples of " +
                    std::to_string(seq_len) + " tokens, fewer than the " + std::to_string(samples) + " asked for");
  return out;
}

namespace {
CommittedCheckpoint commit_with_config(AtomicDirectory& out, const model::TensorSource& src, const std::string& config,
                                       std::vector<std::string>& notes) {
  write_text(out.staging() / "config.json", config);
  if (auto note = write_tokenizer(src, out.staging())) notes.push_back(*note);
  for (const auto& n : notes) log_warning(n);
  CommittedCheckpoint c;
  c.files = out.commit();
  c.original_bytes = src.total_bytes();
  for (const auto& f : c.files)
    if (f.extension() == ".safetensors") c.output_bytes += fs::file_size(out.target() / f);
  return c;
}
}  // namespace

CommittedCheckpoint commit_checkpoint(AtomicDirectory& out, const model::TensorSource& src,
                                      const model::ModelConfig& cfg, DType dt, const io::CompressedTensorsConfig& qc,
                                      std::vector<std::string>& notes) {
  return commit_with_config(out, src, io::config_json_with_quantization(config_json_for(src, cfg, dt), qc), notes);
}

CommittedCheckpoint commit_checkpoint(AtomicDirectory& out, const model::TensorSource& src,
                                      const model::ModelConfig& cfg, DType dt,
                                      const std::function<void(JsonWriter&)>& write_qc,
                                      std::vector<std::string>& notes) {
  return commit_with_config(out, src, io::config_json_with_quantization(config_json_for(src, cfg, dt), write_qc),
                            notes);
}

}  // namespace libquant::jobs::hf_output
