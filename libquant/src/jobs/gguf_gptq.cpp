#include "gguf_gptq.hpp"

#include <cstring>

#include "../cpu/ops.hpp"
#include "hf_output.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/methods/gptq_codec.hpp"
#include "libquant/methods/smoothquant.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "sequential_calibration.hpp"

namespace libquant::jobs {

bool gptq_sweeps(const std::string& tensor_name) { return methods::is_w8a8_linear(tensor_name); }

GgufGptqOutput gguf_gptq(const model::TensorSource& src, const model::ModelConfig& cfg,
                         const std::vector<GgufGptqTarget>& targets, const GgufGptqOptions& opts, unsigned threads,
                         ThreadPool& pool, ProgressSink& progress) {
  check(opts.calibration_samples >= 1 && opts.seq_len >= 16 && opts.batch >= 1, ErrorCode::InvalidArgument,
        "GPTQ calibration needs at least 1 sample of at least 16 tokens and a batch of at least 1");
  check(opts.damp > 0 && opts.damp < 1, ErrorCode::InvalidArgument, "GPTQ's `damp` must be in (0, 1)");
  hf_output::require_transformer_blocks(cfg, "GPTQ error feedback");
  GgufGptqOutput out;
  const auto samples =
      hf_output::calibration_samples(src, opts.calibration_data, opts.calibration_samples, opts.seq_len, out.notes);
  out.calibration_tokens = static_cast<int64_t>(samples.size()) * opts.seq_len;
  SequentialCalibration calibration(src, samples, opts.batch, threads);
  methods::GptqOptions go;
  go.damp = opts.damp;

  progress.begin("GPTQ", static_cast<uint64_t>(cfg.num_layers), "blocks");
  for (int layer = 0; layer < cfg.num_layers; ++layer) {
    std::vector<const GgufGptqTarget*> block;
    std::vector<std::string> names;
    for (const auto& t : targets)
      if (model::gguf_layer_index(t.tensor->name) == layer) block.push_back(&t), names.push_back(t.tensor->name);
    if (block.empty()) {
      calibration.advance(layer);
      progress.update(static_cast<uint64_t>(layer) + 1, "block " + std::to_string(layer));
      continue;
    }
    methods::HessianCollector hc(names);
    calibration.observe(layer, hc);
    BlockInverses inverses(hc, names, go);
    for (const GgufGptqTarget* t : block) {
      const model::SourceTensor& st = *t->tensor;
      const Tensor w = src.read_f32(st);
      src.release(st);
      const auto rows = static_cast<int64_t>(st.shape.rows()), cols = static_cast<int64_t>(st.shape.row_length());
      const methods::GptqInverse& inv = inverses.get(st.name, cols);
      if (inv.damp_used > go.damp)
        out.notes.push_back("'" + st.name + "' needed damping " + std::to_string(inv.damp_used));
      const float* imp = t->importance->empty() ? nullptr : t->importance->data();
      methods::GptqCodecResult res;
      {
        const cpu::SingleThreadedBlas one(pool.size());  // the sweep calls BLAS from each pool thread
        res = methods::gptq_codec_sweep(st.name, w.data_as<float>(), rows, inv, t->type, imp, &pool);
      }
      // GPTQ's objective decides: its sweep, or the codec's own encoding where
      // that leaves a smaller output error on the calibration inputs.
      std::vector<std::byte> plain(res.encoded.size());
      const uint64_t rb = row_bytes(t->type, cols);
      pool.parallel_for(static_cast<size_t>(rows), 16, [&](size_t a, size_t b) {
        gguf::quantize_rows(t->type, w.data_as<float>() + a * static_cast<size_t>(cols), plain.data() + a * rb,
                            static_cast<int64_t>(b - a), cols, imp);
      });
      Tensor q(DType::F32, st.shape), q_plain(DType::F32, st.shape);
      gguf::dequantize(t->type, res.encoded.data(), q.data_as<float>(), rows * cols);
      gguf::dequantize(t->type, plain.data(), q_plain.data_as<float>(), rows * cols);
      const std::vector<double>& h = inverses.hessian(st.name);
      const double with = methods::layer_output_error(w.data_as<float>(), q.data_as<float>(), rows, cols, h);
      const double without = methods::layer_output_error(w.data_as<float>(), q_plain.data_as<float>(), rows, cols, h);
      inverses.done(st.name);
      out.error_ratios.push_back(without > 0 ? with / without : 1.0);
      if (with >= without) {
        res.encoded = std::move(plain);
        q = std::move(q_plain);
        ++out.kept_codec;
      }
      // The next blocks see this linear as the file will hold it.
      calibration.overrides().insert_or_assign(st.name, std::move(q));
      out.encoded.emplace(st.name, std::move(res.encoded));
    }
    calibration.advance(layer);
    calibration.overrides().clear();
    progress.update(static_cast<uint64_t>(layer) + 1, "block " + std::to_string(layer));
  }
  progress.end();
  return out;
}

}  // namespace libquant::jobs
