#include "libquant/jobs/weight_only.hpp"

#include <chrono>
#include <cstring>
#include <map>

#include "awq_block.hpp"
#include "hf_output.hpp"
#include "sequential_calibration.hpp"
#include "libquant/core/atomic_directory.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/output_guard.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/io/gptq_awq_config.hpp"
#include "libquant/io/safetensors.hpp"
#include "libquant/methods/smoothquant.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "../cpu/ops.hpp"
#include "../model/gptq_awq_weight.hpp"
#include "../model/packed_weight.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

using model::bytes_of;
using model::values_of;

// The decoder linears of one block (or all blocks when layer < 0), in file order.
std::vector<const model::SourceTensor*> decoder_linears(const model::TensorSource& src, int layer = -1) {
  std::vector<const model::SourceTensor*> out;
  for (const auto& t : src.tensors()) {
    if (!methods::is_w8a8_linear(t.name)) continue;
    if (layer >= 0 && model::gguf_layer_index(t.name) != layer) continue;
    out.push_back(&t);
  }
  return out;
}

std::vector<int64_t> group_sizes_for(const model::TensorSource& src) {
  std::vector<int64_t> ok;
  for (int64_t g = 4; g <= 1024; g *= 2) {
    bool fits = true;
    for (const auto* t : decoder_linears(src)) fits = fits && t->shape.row_length() % static_cast<uint64_t>(g) == 0;
    if (fits) ok.push_back(g);
  }
  ok.push_back(-1);
  return ok;
}

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

// The checkpoint tensors of one quantized linear (suffixes to its HF module
// name), rows in HF order.
using PackedLinear = std::vector<model::LayoutTensor>;

PackedLinear pack_linear(const methods::IntWeight& w, const std::string& gguf_name, const model::ModelConfig& cfg,
                         DType dt, WeightOnlyLayout layout) {
  const int bits = w.scheme.bits;
  const int64_t groups = w.groups();
  const auto q = values_of<int8_t>(hf_output::to_hf_rows(bytes_of(w.q), gguf_name, w.rows, cfg));
  const auto z = w.zeros.empty() ? std::vector<int8_t>{}
                                 : values_of<int8_t>(hf_output::to_hf_rows(bytes_of(w.zeros), gguf_name, w.rows, cfg));
  if (layout != WeightOnlyLayout::CompressedTensors) {
    const auto scales = values_of<float>(hf_output::to_hf_rows(bytes_of(w.scales), gguf_name, w.rows, cfg));
    const model::IntLinear il{q.data(), scales.data(), z.empty() ? nullptr : z.data(), w.rows, w.cols, groups, bits};
    return layout == WeightOnlyLayout::Gptq ? model::pack_gptq(il, true) : model::pack_awq(il);
  }
  const int64_t words = model::packed_words(w.cols, bits);
  std::vector<int32_t> packed(static_cast<size_t>(w.rows * words));
  for (int64_t r = 0; r < w.rows; ++r)
    model::pack_values(q.data() + r * w.cols, w.cols, bits, packed.data() + r * words);
  PackedLinear p;
  p.push_back({".weight_packed", DType::I32, Shape({w.rows, words}), bytes_of(packed)});
  p.push_back(
      {".weight_scale", dt, Shape({w.rows, groups}),
       hf_output::to_hf_rows(hf_output::encode_floats(w.scales.data(), w.scales.size(), dt), gguf_name, w.rows, cfg)});
  p.push_back({".weight_shape", DType::I64, Shape({2}), bytes_of(std::vector<int64_t>{w.rows, w.cols})});
  if (!z.empty()) {
    // Zero points are packed along the rows: one stream per group column.
    const int64_t zw = model::packed_words(w.rows, bits);
    std::vector<int32_t> zeros(static_cast<size_t>(zw * groups)), column_words(static_cast<size_t>(zw));
    std::vector<int8_t> column(static_cast<size_t>(w.rows));
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t r = 0; r < w.rows; ++r) column[static_cast<size_t>(r)] = z[static_cast<size_t>(r * groups + g)];
      model::pack_values(column.data(), w.rows, bits, column_words.data());
      for (int64_t k = 0; k < zw; ++k)
        zeros[static_cast<size_t>(k * groups + g)] = column_words[static_cast<size_t>(k)];
    }
    p.push_back({".weight_zero_point", DType::I32, Shape({zw, groups}), bytes_of(zeros)});
  }
  return p;
}

io::IntCheckpointLayout io_layout(WeightOnlyLayout l) {
  return l == WeightOnlyLayout::Awq ? io::IntCheckpointLayout::AwqGemm : io::IntCheckpointLayout::Gptq;
}

std::string scheme_text(const WeightOnlyJobOptions& o) {
  std::string s = "W";  // appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on "W" + to_string(...)
  s += std::to_string(o.bits);
  s += o.symmetric ? "A16 symmetric, " : "A16 asymmetric, ";
  s += o.group_size > 0 ? "groups of " + std::to_string(o.group_size) : std::string("per channel");
  if (o.method == WeightOnlyMethod::Gptq)
    s += ", GPTQ" + std::string(o.act_order == methods::ActOrder::Static ? " with activation order" : "");
  else if (o.method == WeightOnlyMethod::Awq)
    s += ", AWQ";
  else
    s += ", round to nearest";
  if (o.layout == WeightOnlyLayout::Gptq)
    s += ", GPTQ layout";
  else if (o.layout == WeightOnlyLayout::Awq)
    s += ", AutoAWQ GEMM layout";
  return s;
}

// GPTQ of one block: Hessians from a float pass over a copy of the inputs,
// then every linear quantized.
void gptq_block(const model::TensorSource& src, int layer, SequentialCalibration& calibration,
                const methods::GptqOptions& go, double damp, ThreadPool& pool,
                std::map<std::string, methods::IntWeight>& quantized, WeightOnlyJobResult& r) {
  const auto linears = decoder_linears(src, layer);
  std::vector<std::string> names;
  names.reserve(linears.size());
  for (const auto* t : linears) names.push_back(t->name);
  methods::HessianCollector hc(names);
  calibration.observe(layer, hc);
  BlockInverses inverses(hc, names, go);
  for (const auto* t : linears) {
    const Tensor w = src.read_f32(*t);
    src.release(*t);
    const auto rows = static_cast<int64_t>(t->shape.rows()), cols = static_cast<int64_t>(t->shape.row_length());
    const methods::GptqInverse& inv = inverses.get(t->name, cols);
    methods::GptqResult res;
    {
      const cpu::SingleThreadedBlas one(pool.size());  // the sweep calls BLAS from each pool thread
      res = methods::gptq_quantize(t->name, w.data_as<float>(), rows, inv, go, &pool);
    }
    inverses.done(t->name);
    r.linears.push_back({t->name, res.loss, res.damp_used, res.dead_columns});
    if (res.damp_used > damp) r.notes.push_back("'" + t->name + "' needed damping " + std::to_string(res.damp_used));
    quantized.insert_or_assign(t->name, std::move(res.weight));
  }
}

// Runs the calibration activations through the model block by block: each
// block's linears are quantized (GPTQ or AWQ) from its float inputs, and the
// activations then pass through the quantized block to become the next
// block's inputs. Tensors AWQ changed besides the linears (norms that absorbed
// 1/s) are returned in `smoothed`.
void quantize_sequential(const model::TensorSource& src, const model::ModelConfig& cfg,
                         const WeightOnlyJobOptions& opts, const methods::IntWeightScheme& scheme,
                         std::map<std::string, PackedLinear>& packed,
                         std::map<std::string, Tensor, std::less<>>& smoothed, WeightOnlyJobResult& r,
                         ProgressSink& progress) {
  const auto samples =
      hf_output::calibration_samples(src, opts.calibration_data, opts.calibration_samples, opts.seq_len, r.notes);
  r.calibration_samples = static_cast<int64_t>(samples.size());
  r.calibration_tokens = r.calibration_samples * opts.seq_len;

  // The forward pass loads the current block's quantized weights (and AWQ's
  // trials and smoothed norms) from the calibration's overrides.
  SequentialCalibration calibration(src, samples, opts.batch, opts.threads);
  auto& overrides = calibration.overrides();
  ThreadPool pool(opts.threads);
  methods::GptqOptions go;
  go.scheme = scheme;
  go.damp = opts.damp;
  go.block = opts.block;
  go.act_order = opts.act_order;
  const bool awq = opts.method == WeightOnlyMethod::Awq;
  const int64_t search_batches = (opts.awq_search_samples + opts.batch - 1) / opts.batch;
  progress.begin(awq ? "AWQ" : "GPTQ", static_cast<uint64_t>(cfg.num_layers), "blocks");
  for (int l = 0; l < cfg.num_layers; ++l) {
    std::map<std::string, methods::IntWeight> quantized;
    if (awq) {
      awq_block(src, cfg, l, calibration.model(), overrides, calibration.inputs(), scheme, opts.awq_grid,
                search_batches, quantized, r.awq);
      for (const auto& [name, q] : quantized) r.linears.push_back({name, 0, 0, 0});
    } else {
      gptq_block(src, l, calibration, go, opts.damp, pool, quantized, r);
      for (const auto& [name, q] : quantized) {
        const model::SourceTensor* t = src.find(name);
        overrides.insert_or_assign(name, dequantized_tensor(q, t->shape));
      }
    }
    calibration.advance(l);  // the quantized block gives the next block's inputs
    for (auto& [name, q] : quantized) {
      packed.emplace(name, pack_linear(q, name, cfg, scheme.scale_dtype, opts.layout));
      overrides.erase(name);
    }
    for (auto& [name, t] : overrides) smoothed.insert_or_assign(name, std::move(t));
    overrides.clear();
    progress.update(static_cast<uint64_t>(l) + 1, "block " + std::to_string(l));
  }
  progress.end();
}

void rtn_all(const model::TensorSource& src, const model::ModelConfig& cfg, const methods::IntWeightScheme& scheme,
             WeightOnlyLayout layout, std::map<std::string, PackedLinear>& packed, WeightOnlyJobResult& r,
             ProgressSink& progress) {
  const auto linears = decoder_linears(src);
  progress.begin("Quantizing", linears.size(), "linears");
  size_t done = 0;
  for (const auto* t : linears) {
    const Tensor w = src.read_f32(*t);
    src.release(*t);
    const auto q = methods::rtn_quantize(w.data_as<float>(), static_cast<int64_t>(t->shape.rows()),
                                         static_cast<int64_t>(t->shape.row_length()), scheme);
    packed.emplace(t->name, pack_linear(q, t->name, cfg, scheme.scale_dtype, layout));
    r.linears.push_back({t->name, 0, 0, 0});
    progress.update(++done, t->name);
  }
  progress.end();
}

}  // namespace

WeightOnlyJobResult quantize_weight_only(const WeightOnlyJobOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check(!opts.output.empty(), ErrorCode::InvalidArgument, "no output directory given");
  require_output_apart_from_inputs(opts.output, {opts.model, opts.calibration_data}, OutputKind::Directory);
  check(opts.calibration_samples >= 1 && opts.seq_len >= 16 && opts.batch >= 1, ErrorCode::InvalidArgument,
        "calibration needs at least 1 sample of at least 16 tokens and a batch of at least 1");
  check(opts.awq_grid >= 3 && opts.awq_search_samples >= 1, ErrorCode::InvalidArgument,
        "AWQ needs a grid of at least 3 points and at least one search sample");
  check(opts.act_order != methods::ActOrder::Group, ErrorCode::InvalidArgument,
        "activation order with dynamic groups (g_idx) is not written", "Use static activation order");
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  auto src = model::open_tensor_source(opts.model);
  const model::ModelConfig cfg = eval::forward_config(*src);
  hf_output::require_transformer_blocks(cfg, "GPTQ / AWQ quantization");
  check(cfg.quantization_config.empty(), ErrorCode::InvalidArgument, "the model is already quantized",
        "Start from the float checkpoint");

  const DType dt = hf_output::checkpoint_dtype(*src, cfg);
  // GPTQ's and AWQ's layouts hold f16 scales: round them to f16 from the start.
  const bool ct = opts.layout == WeightOnlyLayout::CompressedTensors;
  methods::IntWeightScheme scheme{opts.bits, opts.group_size, opts.symmetric, ct ? dt : DType::F16};
  methods::validate_scheme(scheme);
  for (const auto* t : decoder_linears(*src)) {
    const auto rows = static_cast<int64_t>(t->shape.rows()), cols = static_cast<int64_t>(t->shape.row_length());
    check(methods::group_size_fits(scheme, cols), ErrorCode::InvalidArgument,
          "group size " + std::to_string(opts.group_size) + " does not divide the " + std::to_string(cols) +
              " inputs of '" + t->name + "'",
          "Valid group sizes for this model: " + join(group_sizes_for(*src)));
    if (ct) continue;
    const std::string misfit = model::layout_misfit(io_layout(opts.layout), rows, cols, opts.bits, opts.group_size);
    check(misfit.empty(), ErrorCode::InvalidArgument, misfit + " for '" + t->name + "'",
          "Write `layout` compressed-tensors, which takes any shape, bits and groups");
  }

  WeightOnlyJobResult r;
  r.output = opts.output;
  r.scheme = scheme_text(opts);
  r.method = opts.method;
  r.layout = opts.layout;
  std::map<std::string, PackedLinear> packed;
  std::map<std::string, Tensor, std::less<>> smoothed;  // AWQ's norms (and biases) that absorbed 1/s
  if (opts.method == WeightOnlyMethod::Rtn)
    rtn_all(*src, cfg, scheme, opts.layout, packed, r, progress);
  else
    quantize_sequential(*src, cfg, opts, scheme, packed, smoothed, r, progress);

  // Every tensor: quantized linears as their packed parts, the rest in the checkpoint dtype.
  std::vector<io::SafetensorsTensorSpec> specs;
  struct Part {
    const model::SourceTensor* src;
    size_t packed_part;  // index into the linear's packed tensors; kFloat: a float tensor
  };
  constexpr size_t kFloat = ~size_t{0};
  std::map<std::string, Part> parts;
  for (const auto& t : src->tensors()) {
    if (hf_output::config_only_tensor(t.name)) continue;
    const std::string hf = hf_output::hf_name_of(t.name, cfg.arch());
    auto it = packed.find(t.name);
    if (it == packed.end()) {
      parts[hf] = {&t, kFloat};
      specs.push_back({hf, dt, t.shape});
      continue;
    }
    const std::string m = hf.substr(0, hf.size() - 7);  // drop ".weight"
    for (size_t i = 0; i < it->second.size(); ++i) {
      const model::LayoutTensor& lt = it->second[i];
      parts[m + lt.suffix] = {&t, i};
      specs.push_back({m + lt.suffix, lt.dtype, lt.shape});
    }
  }
  AtomicDirectory out(opts.output);
  io::SafetensorsWriter writer(out.staging(), "model", specs, {{"format", "pt"}}, opts.max_shard_bytes);
  progress.begin("Writing", writer.write_order().size(), "tensors");
  size_t done = 0;
  for (const std::string& name : writer.write_order()) {
    const Part& part = parts.at(name);
    const model::SourceTensor& t = *part.src;
    if (part.packed_part == kFloat) {
      auto sm = smoothed.find(t.name);
      Tensor f = sm != smoothed.end() ? std::move(sm->second) : src->read_f32(t);
      src->release(t);
      writer.write(name, hf_output::hf_float_bytes(std::move(f), t, cfg, dt));
    } else {
      writer.write(name, packed.at(t.name)[part.packed_part].bytes);
    }
    progress.update(++done, name);
  }
  progress.end();
  writer.finish();

  hf_output::CommittedCheckpoint done_ckpt;
  if (ct) {
    const auto qc = io::CompressedTensorsConfig::weight_only(
        opts.bits, opts.group_size, opts.symmetric,
        opts.act_order == methods::ActOrder::Static ? std::optional<std::string>("weight") : std::nullopt);
    done_ckpt = hf_output::commit_checkpoint(out, *src, cfg, dt, qc, r.notes);
  } else {
    io::GptqAwqConfig c;
    c.layout = io_layout(opts.layout);
    c.bits = opts.bits, c.group_size = opts.group_size, c.symmetric = opts.symmetric, c.damp = opts.damp;
    // Static activation order keeps the natural groups: g_idx is c / group, so
    // loaders need no reordering (desc_act false).
    c.static_groups = opts.act_order == methods::ActOrder::Static;
    done_ckpt = hf_output::commit_checkpoint(
        out, *src, cfg, dt, [&](JsonWriter& w) { io::write_gptq_awq_config(w, c); }, r.notes);
  }
  r.files = done_ckpt.files;
  r.original_bytes = done_ckpt.original_bytes;
  r.output_bytes = done_ckpt.output_bytes;
  r.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace libquant::jobs
