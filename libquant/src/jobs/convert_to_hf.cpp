#include "libquant/jobs/convert_to_hf.hpp"

#include <chrono>
#include <map>

#include "hf_output.hpp"
#include "libquant/core/atomic_directory.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/output_guard.hpp"
#include "libquant/io/safetensors.hpp"
#include "libquant/model/model_validation.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

// The float type the checkpoint is written in: f32 when every tensor is f32,
// bf16 when the 2-D ones are bf16, else f16 (f16 and quantized files).
DType checkpoint_dtype(const model::TensorSource& src, std::optional<DType> asked) {
  if (asked) {
    check(*asked == DType::F32 || *asked == DType::F16 || *asked == DType::BF16, ErrorCode::InvalidArgument,
          "a Hugging Face checkpoint holds f32, f16 or bf16 tensors", "Use a `dtype` of f32, f16 or bf16");
    return *asked;
  }
  bool all_f32 = true, matrices_bf16 = true;
  for (const auto& t : src.tensors()) {
    all_f32 &= t.dtype == DType::F32;
    if (t.shape.rank() >= 2) matrices_bf16 &= t.dtype == DType::BF16;
  }
  return all_f32 ? DType::F32 : matrices_bf16 ? DType::BF16 : DType::F16;
}

}  // namespace

ConvertToHfResult convert_gguf_to_hf(const ConvertToHfOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check(!opts.output.empty(), ErrorCode::InvalidArgument, "no output directory given");
  require_output_apart_from_inputs(opts.output, {opts.input}, OutputKind::Directory);
  std::error_code ec;
  if (fs::exists(opts.output, ec) && !opts.force)
    throw Error(ErrorCode::CancelledAfterQualityWarning, "'" + opts.output.string() + "' exists",
                "Set `force` to replace it, or write elsewhere");
  auto src = model::open_tensor_source(opts.input);
  check(
      src->kind() == model::SourceKind::GgufFile, ErrorCode::UnsupportedConversion,
      std::string("'").append(opts.input.string()).append("' is not a GGUF file"),  // (GCC 12 -Wrestrict on "'" + ...)
      src->kind() == model::SourceKind::HfDirectory ? "It already is a Hugging Face checkpoint"
                                                    : "Use `littlebit convert` for .littlebit files");
  const model::ModelConfig cfg = model::validated_config(*src);
  hf_output::require_transformer_blocks(cfg, "Conversion to a Hugging Face checkpoint");
  const DType dt = checkpoint_dtype(*src, opts.dtype);
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();

  ConvertToHfResult r;
  r.output = opts.output;
  r.torch_dtype = std::string(torch_dtype_name(dt));
  std::vector<io::SafetensorsTensorSpec> specs;
  std::map<std::string, const model::SourceTensor*> from;
  for (const auto& t : src->tensors()) {
    if (hf_output::config_only_tensor(t.name)) continue;
    std::string name = hf_output::hf_name_of(t.name, cfg.arch());
    from[name] = &t;
    specs.push_back({std::move(name), dt, t.shape});
  }
  AtomicDirectory out(opts.output);
  io::SafetensorsWriter writer(out.staging(), "model", specs, {{"format", "pt"}}, opts.max_shard_bytes);
  progress.begin("Writing", writer.write_order().size(), "tensors");
  for (const std::string& name : writer.write_order()) {
    const model::SourceTensor& t = *from.at(name);
    writer.write(name, hf_output::hf_float_bytes(src->read_f32(t), t, cfg, dt));
    src->release(t);
    progress.update(static_cast<uint64_t>(++r.tensors), name);
  }
  progress.end();
  writer.finish();
  hf_output::write_text(out.staging() / "config.json", hf_output::config_json_for(*src, cfg, dt));
  if (auto note = hf_output::write_tokenizer(*src, out.staging())) r.notes.push_back(*note);
  for (const auto& n : r.notes) log_warning(n);
  r.files = out.commit();
  r.input_bytes = fs::file_size(opts.input);
  for (const auto& f : r.files)
    if (f.extension() == ".safetensors") r.output_bytes += fs::file_size(opts.output / f);
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
