#include "libquant/core/output_guard.hpp"
#include "libquant/jobs/smoothquant.hpp"

#include "hf_output.hpp"
#include "smoothquant_state.hpp"

#include <chrono>
#include <cstring>

#include "libquant/core/atomic_directory.hpp"
#include "libquant/core/checkpoint.hpp"
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

// Everything that changes the statistics or the plan (not the output path or
// shard size: the writing phase is redone on resume anyway).
std::string job_config(const SmoothQuantJobOptions& o) {
  return "model=" + file_identity(o.model) +
         "\ndata=" + (o.calibration_data.empty() ? "default" : file_identity(o.calibration_data)) +
         "\nsmooth=" + std::to_string(o.smooth) + "\nalpha=" + (o.alpha ? std::to_string(*o.alpha) : "auto") +
         "\nstatic=" + std::to_string(o.static_activations) + "\ndown=" + std::to_string(o.smooth_down) +
         "\nsamples=" + std::to_string(o.calibration_samples) + "\nseq_len=" + std::to_string(o.seq_len) +
         "\nbatch=" + std::to_string(o.batch) + "\nsearch_rows=" + std::to_string(o.search_rows);
}

// Calibration (resumable per batch) and planning (resumable as a whole) with
// a checkpoint after each batch and after planning, when `ckpt` is given.
void calibrate_and_plan(methods::SmoothQuantQuantizer& sq, const std::vector<std::vector<int32_t>>& samples,
                        const SmoothQuantJobOptions& opts, Checkpoint* ckpt, SmoothQuantJobResult& r) {
  ProgressSink* progress = opts.progress;
  if (!ckpt) {
    sq.calibrate(samples, opts.batch, progress);
    sq.plan(progress);
    return;
  }
  const fs::path partial = ckpt->partial_path(".smoothquant.safetensors");
  methods::CalibrationResume resume;
  std::optional<smoothquant_state::Saved> saved;
  if (opts.resume) {
    const std::optional<CheckpointRecord> rec = ckpt->load_record();
    if (!rec)
      throw Error(ErrorCode::CheckpointError, "no checkpoint of this SmoothQuant job in '" + ckpt->dir().string() + "'",
                  "Start afresh without `resume` (model, data and options must match the interrupted run)");
    if (rec->done > 0) {
      ckpt->verify_partial(*rec, partial);
      saved = smoothquant_state::load(partial, sq.groups());
      const uint64_t expected = saved->plan ? samples.size() + 1 : saved->sequences;
      if (rec->done != expected || saved->sequences > samples.size())
        throw Error(ErrorCode::CheckpointError, "checkpoint record and data disagree",
                    "Delete the checkpoint directory and start afresh");
      resume.done = saved->sequences;
      resume.restored = std::move(saved->stats);
      r.resumed_sequences = static_cast<int64_t>(saved->sequences);
      log_info("resuming SmoothQuant after " + std::to_string(saved->sequences) + " of " +
               std::to_string(samples.size()) + " calibration samples" + (saved->plan ? " and its plan" : ""));
    }
  }
  resume.after_batch = [&](size_t done) {
    smoothquant_state::save(partial, done, *sq.statistics(), nullptr, nullptr);
    ckpt->save_with_partial(done, partial);
    if (opts.on_checkpoint) opts.on_checkpoint(done);
  };
  sq.calibrate(samples, opts.batch, progress, &resume);
  if (saved && saved->plan) {
    sq.restore_plan(std::move(*saved->plan), std::move(saved->candidates));
    r.resumed_plan = true;
    return;
  }
  sq.plan(progress);
  smoothquant_state::save(partial, samples.size(), *sq.statistics(), &sq.groups(), &sq.candidates());
  ckpt->save_with_partial(samples.size() + 1, partial);
  if (opts.on_checkpoint) opts.on_checkpoint(samples.size() + 1);
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
  std::optional<Checkpoint> ckpt;
  if (sq.needs_calibration()) {
    const auto samples =
        hf_output::calibration_samples(*src, opts.calibration_data, opts.calibration_samples, opts.seq_len, r.notes);
    r.calibration_samples = static_cast<int64_t>(samples.size());
    r.calibration_tokens = r.calibration_samples * opts.seq_len;
    if (opts.checkpoint_dir) ckpt.emplace(*opts.checkpoint_dir, "smoothquant", job_config(opts));
    calibrate_and_plan(sq, samples, opts, ckpt ? &*ckpt : nullptr, r);
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
  if (ckpt) ckpt->clear();
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
