#include "libquant/core/output_guard.hpp"
#include "libquant/jobs/smoothquant.hpp"

#include "hf_output.hpp"

#include <chrono>
#include <cstring>

#include "libquant/core/atomic_directory.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/io/safetensors.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

// What is written for one source tensor.
struct Planned {
  const model::SourceTensor* src;
  std::string hf;  // HF name of the tensor itself
  bool linear;     // W8A8: int8 weight + scale (+ input scale)
};

// One tensor of the checkpoint: which source tensor it comes from, and as what.
enum class Part { Float, Int8Weight, WeightScale, InputScale };
struct Output {
  const Planned* from;
  Part part;
};

// The safetensors specs, and what each named tensor is made from.
std::vector<io::SafetensorsTensorSpec> specs_for(const std::vector<Planned>& plan, DType dt, bool static_act,
                                                 std::map<std::string, Output>& outputs) {
  std::vector<io::SafetensorsTensorSpec> specs;
  auto add = [&](std::string name, DType t, Shape shape, const Planned& p, Part part) {
    outputs[name] = {&p, part};
    specs.push_back({std::move(name), t, std::move(shape)});
  };
  for (const auto& p : plan) {
    if (!p.linear) {
      add(p.hf, dt, p.src->shape, p, Part::Float);
      continue;
    }
    const std::string module = p.hf.substr(0, p.hf.size() - 7);  // drop ".weight"
    add(p.hf, DType::I8, p.src->shape, p, Part::Int8Weight);
    add(module + ".weight_scale", dt, Shape({p.src->shape[0], 1}), p, Part::WeightScale);
    if (static_act) add(module + ".input_scale", dt, Shape({1}), p, Part::InputScale);
  }
  return specs;
}

// The bytes of one output tensor. A linear is quantized twice (once for its
// scales, which the writer's order puts first, once for its int8 rows) rather
// than keeping every linear's int8 rows in memory between the two.
std::vector<std::byte> output_bytes(const Output& o, const methods::SmoothQuantQuantizer& sq, DType dt,
                                    const model::ModelConfig& cfg) {
  const model::SourceTensor& t = *o.from->src;
  const auto rows = static_cast<int64_t>(t.shape.rank() <= 1 ? t.shape.numel() : t.shape.rows());
  switch (o.part) {
    case Part::Float:
      return hf_output::hf_float_bytes(sq.smoothed_f32(t), t, cfg, dt);
    case Part::Int8Weight: {
      const auto q = sq.quantize(t);
      std::vector<std::byte> raw(q.q.size());
      std::memcpy(raw.data(), q.q.data(), raw.size());
      return hf_output::to_hf_rows(std::move(raw), t.name, rows, cfg);
    }
    case Part::WeightScale: {
      const auto q = sq.quantize(t);
      return hf_output::to_hf_rows(hf_output::encode_floats(q.scales.data(), q.scales.size(), dt), t.name, rows, cfg);
    }
    case Part::InputScale: {
      const float s = sq.input_scale(t.name);
      return hf_output::encode_floats(&s, 1, dt);
    }
  }
  return {};
}

}  // namespace

SmoothQuantJobResult smoothquant_w8a8(const SmoothQuantJobOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check(!opts.output.empty(), ErrorCode::InvalidArgument, "no output directory given");
  require_output_apart_from_inputs(opts.output, {opts.model, opts.calibration_data}, OutputKind::Directory);
  check(opts.calibration_samples >= 1 && opts.seq_len >= 16 && opts.batch >= 1, ErrorCode::InvalidArgument,
        "calibration needs at least 1 sample of at least 16 tokens and a batch of at least 1");
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  auto src = model::open_tensor_source(opts.model);
  const model::ModelConfig cfg = eval::forward_config(*src);
  // The W8A8 output is an HF checkpoint: its config.json is the input's, or written from GGUF metadata.
  hf_output::require_transformer_blocks(cfg, "SmoothQuant");
  check(cfg.quantization_config.empty(), ErrorCode::InvalidArgument, "the model is already quantized",
        "Start from the float checkpoint");

  methods::SmoothQuantOptions so;
  so.smooth = opts.smooth;
  so.alpha = opts.alpha;
  so.static_activations = opts.static_activations;
  so.smooth_down = opts.smooth_down;
  so.sample_rows = opts.search_rows;
  so.threads = opts.threads;
  methods::SmoothQuantQuantizer sq(*src, so);

  SmoothQuantJobResult r;
  r.output = opts.output;
  r.activation_scheme = opts.static_activations ? "static per tensor" : "dynamic per token";
  if (sq.needs_calibration()) {
    const auto samples =
        hf_output::calibration_samples(*src, opts.calibration_data, opts.calibration_samples, opts.seq_len, r.notes);
    r.calibration_samples = static_cast<int64_t>(samples.size());
    r.calibration_tokens = r.calibration_samples * opts.seq_len;
    sq.calibrate(samples, opts.batch, &progress);
    sq.plan(&progress);
  }
  if (opts.smooth)
    for (const auto& n : methods::unsmoothed_inputs(cfg, opts.smooth_down || !opts.alpha)) r.notes.push_back(n);
  r.groups = sq.groups();
  r.alpha_candidates = sq.candidates();

  // Which tensors are written, and how.
  const DType dt = hf_output::checkpoint_dtype(*src, cfg);
  std::vector<Planned> plan;
  for (const auto& t : src->tensors()) {
    if (hf_output::config_only_tensor(t.name)) continue;
    plan.push_back({&t, hf_output::hf_name_of(t.name, cfg.arch()), methods::is_w8a8_linear(t.name)});
    if (plan.back().linear) ++r.quantized_linears;
  }
  AtomicDirectory out(opts.output);
  std::map<std::string, Output> outputs;
  io::SafetensorsWriter writer(out.staging(), "model", specs_for(plan, dt, opts.static_activations, outputs),
                               {{"format", "pt"}}, opts.max_shard_bytes);
  progress.begin("Writing", writer.write_order().size(), "tensors");
  size_t done = 0;
  for (const std::string& name : writer.write_order()) {
    writer.write(name, output_bytes(outputs.at(name), sq, dt, cfg));
    progress.update(++done, name);
  }
  progress.end();
  writer.finish();

  const auto done_ckpt = hf_output::commit_checkpoint(
      out, *src, cfg, dt, io::CompressedTensorsConfig::w8a8(!opts.static_activations), r.notes);
  r.files = done_ckpt.files;
  r.original_bytes = done_ckpt.original_bytes;
  r.output_bytes = done_ckpt.output_bytes;
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
