// `littlebit compress`: plan ranks, factorize layer by layer (with
// calibration inputs from the partly compressed model when refining),
// checkpoint each layer, write the .littlebit file, convert it when another
// format is wanted, validate, and raise ranks where the quality loop asks.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "libquant/core/output_guard.hpp"
#include "libquant/core/checkpoint.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "libquant/jobs/quality_report.hpp"
#include "libquant/eval/decoder_block_grad.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/methods/littlebit_block.hpp"
#include "libquant/model/model_validation.hpp"
#include "libquant/model/overlay_source.hpp"
#include "littlebit_output.hpp"
#include "peak_memory.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

// Decoder linears: blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight.
int decoder_layer_of(const std::string& name) {
  static const std::regex re(R"(^blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$)");
  std::smatch m;
  return std::regex_match(name, m, re) ? std::stoi(m[1].str()) : -1;
}

bool is_kv(const std::string& name) {
  return name.find(".attn_k.") != std::string::npos || name.find(".attn_v.") != std::string::npos;
}

struct Planned {
  std::string name;
  int layer;
  int64_t out, in, rank;
};

std::vector<Planned> plan_ranks(const model::TensorSource& src, const LittleBitCompressOptions& o) {
  std::vector<Planned> plan;
  const int paths = o.residual ? 2 : 1;
  for (const auto& t : src.tensors()) {
    const int layer = decoder_layer_of(t.name);
    if (layer < 0 || t.shape.rank() != 2) continue;
    Planned p{t.name, layer, t.shape[0], t.shape[1], 0};
    const int64_t cap = std::min(p.out, p.in);
    if (o.rank) {
      if (*o.rank < 1 || *o.rank > cap)
        throw Error(ErrorCode::RankSelectionFailed,
                    "rank " + std::to_string(*o.rank) + " does not fit " + t.name + " (" + std::to_string(p.out) + "x" +
                        std::to_string(p.in) + ", at most " + std::to_string(cap) + ")",
                    "Use a `rank` between 1 and " + std::to_string(cap) + ", or a `target_bpw`");
      p.rank = *o.rank;
    } else {
      p.rank = methods::littlebit_rank_for_bpw(p.out, p.in, o.target_bpw, paths, is_kv(t.name) ? o.kv_factor : 1.0);
    }
    if (auto it = o.rank_scale.find(t.name); it != o.rank_scale.end())
      p.rank = std::min(cap, std::max<int64_t>(8, static_cast<int64_t>(std::llround(p.rank * it->second / 8.0)) * 8));
    plan.push_back(p);
  }
  if (plan.empty())
    throw Error(ErrorCode::RankSelectionFailed, "the model has no decoder linear weights to factorize",
                "LittleBit compresses Llama-family decoders (attn_q/k/v/output, ffn_gate/up/down)");
  return plan;
}

// Every `stride`-th input row of one decoder layer's linears, up to `cap` rows each.
class RowSampler final : public calib::LinearHook {
 public:
  RowSampler(int layer, int64_t stride, int64_t cap) : layer_(layer), stride_(stride), cap_(cap) {}
  void on_input(const calib::LinearInput& in) override {
    if (in.layer != layer_) return;
    auto& rows = rows_[std::string(in.weight)];
    int64_t& seen = seen_[std::string(in.weight)];
    for (int64_t r = 0; r < in.rows; ++r, ++seen)
      if (seen % stride_ == 0 && static_cast<int64_t>(rows.size()) < cap_ * in.cols)
        rows.insert(rows.end(), in.x + r * in.cols, in.x + (r + 1) * in.cols);
  }
  const std::vector<float>* rows(const std::string& w) const {
    auto it = rows_.find(w);
    return it == rows_.end() ? nullptr : &it->second;
  }

 private:
  int layer_;
  int64_t stride_, cap_;
  std::map<std::string, std::vector<float>> rows_;
  std::map<std::string, int64_t> seen_;
};

std::vector<std::string> mine_names(const std::vector<const Planned*>& mine) {
  std::vector<std::string> names;
  names.reserve(mine.size());
  for (const Planned* p : mine) names.push_back(p->name);
  return names;
}

std::string checkpoint_config(const LittleBitCompressOptions& o, const std::vector<Planned>& plan) {
  std::string c = file_identity(o.model) + "|bpw=" + std::to_string(o.target_bpw) +
                  "|res=" + std::to_string(o.residual) + "|refine=" + std::to_string(o.refine) +
                  "|steps=" + std::to_string(o.refine_options.steps) + "|lr=" + std::to_string(o.refine_options.lr) +
                  "|k=" + std::to_string(o.refine_options.smooth_k) + "|rows=" + std::to_string(o.refine_rows) +
                  "|sequential=" + std::to_string(o.sequential) + "|seed=" + std::to_string(o.seed) +
                  "|samples=" + std::to_string(o.calibration_samples) + "|seq=" + std::to_string(o.seq_len) +
                  "|block=" + std::to_string(o.block_options.steps) + "," + std::to_string(o.block_options.lr) + "," +
                  std::to_string(o.block_options.latent_lr) + "," + std::to_string(o.block_samples) +
                  "|calib=" + (o.calibration_data.empty() ? std::string("default") : file_identity(o.calibration_data));
  for (const auto& p : plan) c += "|" + p.name + ":" + std::to_string(p.rank);
  return c;
}

// The first `count` sequences of a batch of hidden states.
eval::Transformer::Hidden first_sequences(const eval::Transformer::Hidden& h, int64_t count) {
  eval::Transformer::Hidden out{std::min(count, h.batch), h.seq, {}};
  out.h.assign(h.h.begin(), h.h.begin() + static_cast<std::ptrdiff_t>(h.h.size() / h.batch * out.batch));
  return out;
}

// Runs layer `layer` of the compressed model (its factors reconstructed) on hq.
void advance_compressed_states(eval::Transformer& tf, model::OverlaySource& overlay, int layer,
                               const std::vector<const Planned*>& mine,
                               const std::map<std::string, LittleBitFactorsOut>& factors,
                               eval::Transformer::Hidden& hq) {
  for (const Planned* p : mine) overlay.replace(p->name, factors.at(p->name).factors.reconstruct());
  tf.run_layer(layer, hq);
  overlay.clear();
}

// The block's factorized weights in the order of eval::block_linear_names(),
// or nothing when the layer does not have all seven.
template <class Work>
std::optional<std::array<std::vector<methods::LittleBitLatent>*, 7>> block_latents(int layer, std::vector<Work>& work) {
  std::array<std::vector<methods::LittleBitLatent>*, 7> out{};
  for (int i = 0; i < eval::kBlockLinears; ++i) {
    const std::string name = "blk." + std::to_string(layer) + "." + eval::block_linear_names()[i];
    auto it = std::find_if(work.begin(), work.end(), [&](const Work& w) { return w.p->name == name; });
    if (it == work.end()) return std::nullopt;
    out[i] = &it->lat;
  }
  return out;
}

// Factorizes one decoder layer's linears: Dual-SVID, per-weight refinement on
// the sampled inputs, then (hq given) block-output matching on the states hq
// against the original block's outputs (fp_out's first sequences, or the
// original block applied to hq when fp_out is null).
void factorize_layer(const model::TensorSource& src, const LittleBitCompressOptions& o, int layer,
                     const std::vector<const Planned*>& mine, const RowSampler* sampler,
                     methods::LittleBitInitOptions init, const methods::LittleBitRefineOptions& refine_options,
                     const eval::Transformer::Hidden* hq, const eval::Transformer::Hidden* fp_out,
                     eval::Transformer* tf, std::map<std::string, LittleBitFactorsOut>& factors,
                     std::vector<LittleBitLayerStat>& stats) {
  struct Work {
    const Planned* p;
    Tensor w;
    std::vector<methods::LittleBitLatent> lat;
    LittleBitLayerStat st;
    const std::vector<float>* z;
  };
  std::vector<Work> work;
  for (const Planned* p : mine) {
    const model::SourceTensor& t = *src.find(p->name);
    Work wk{
        p, src.read_f32(t), {}, {p->name, p->out, p->in, p->rank, o.residual ? 2 : 1, 0, 0, -1, -1, false}, nullptr};
    src.release(t);
    init.rank = p->rank;
    try {
      wk.lat = methods::dual_svid_init(wk.w.data_as<float>(), p->out, p->in, init);
    } catch (const Error& e) {
      throw Error(e.code(), "layer " + p->name + ": " + e.what(), e.suggestion());
    }
    wk.z = sampler ? sampler->rows(p->name) : nullptr;
    if (wk.z && wk.z->empty()) wk.z = nullptr;
    if (wk.z) {
      const int64_t K = static_cast<int64_t>(wk.z->size()) / p->in;
      wk.st.output_error_init =
          methods::littlebit_output_error(methods::binarize(wk.lat), wk.w.data_as<float>(), wk.z->data(), K);
      methods::refine_littlebit(wk.lat, wk.w.data_as<float>(), wk.z->data(), K, refine_options);
    }
    work.push_back(std::move(wk));
  }
  if (hq) {
    if (auto block = block_latents(layer, work)) {
      eval::Transformer::Hidden target;
      if (fp_out) {
        target = first_sequences(*fp_out, hq->batch);
      } else {
        target = *hq;
        tf->run_layer(layer, target);
      }
      methods::LittleBitBlockOptions bo = o.block_options;
      bo.smooth_k = o.refine_options.smooth_k;
      const auto bst =
          methods::refine_littlebit_block(src, layer, *block, hq->h.data(), target.h.data(), hq->batch, hq->seq, bo);
      for (auto& wk : work) {
        wk.st.block_error_init = bst.loss_before;
        wk.st.block_error = bst.loss_after;
      }
      log_verbose("  block " + std::to_string(layer) + " output error " + std::to_string(bst.loss_before) + " -> " +
                  std::to_string(bst.loss_after));
    }
  }
  for (auto& wk : work) {
    const Planned* p = wk.p;
    LittleBitLayerStat& st = wk.st;
    LittleBitFactorsOut f{methods::binarize(wk.lat), 0, -1};
    if (wk.z)
      st.output_error = methods::littlebit_output_error(f.factors, wk.w.data_as<float>(), wk.z->data(),
                                                        static_cast<int64_t>(wk.z->size()) / p->in);
    st.bpw = f.factors.bpw();
    st.weight_error = methods::relative_frobenius_error(wk.w.data_as<float>(), f.factors.reconstruct());
    f.weight_error = st.weight_error;
    f.output_error = st.output_error;
    factors[p->name] = std::move(f);
    stats.push_back(st);
    log_verbose("  " + p->name + ": rank=" + std::to_string(p->rank) + ", bpw=" + std::to_string(st.bpw) +
                ", weight error=" + std::to_string(st.weight_error) +
                (st.output_error >= 0 ? ", output error " + std::to_string(st.output_error_init) + " -> " +
                                            std::to_string(st.output_error)
                                      : std::string()));
  }
}

// One compression pass over the model into `factors` (by weight name).
void factorize_model(const model::TensorSource& src, const LittleBitCompressOptions& o,
                     const std::vector<Planned>& plan, std::map<std::string, LittleBitFactorsOut>& factors,
                     std::vector<LittleBitLayerStat>& stats) {
  int n_layers = 0;  // (HF checkpoints list layer 10 before layer 2)
  for (const auto& p : plan) n_layers = std::max(n_layers, p.layer + 1);
  methods::LittleBitInitOptions init;
  init.residual = o.residual;
  init.svd = o.svd;
  init.svd.seed = o.seed;
  methods::LittleBitRefineOptions refine_options = o.refine_options;
  refine_options.seed = o.seed;

  // Calibration (refinement only): the hidden states entering each layer.
  model::OverlaySource overlay(src);
  std::unique_ptr<eval::Transformer> tf;
  eval::Transformer::Hidden hidden;
  int64_t stride = 1;
  if (o.refine) {
    auto tok = eval::load_tokenizer(src);
    eval::CalibrationOptions co;
    co.source = o.calibration_data;
    co.samples = o.calibration_samples;
    co.seq_len = o.seq_len;
    co.allow_fewer = true;
    const auto samples = eval::load_calibration_samples(*tok, co);
    eval::ForwardOptions fo;
    fo.threads = o.threads;
    tf = std::make_unique<eval::Transformer>(overlay, fo);
    hidden = tf->embed(samples);
    const int64_t tokens = hidden.batch * hidden.seq;
    stride = std::max<int64_t>(1, tokens / std::max<int64_t>(1, o.refine_rows));
  }
  // Block-output matching runs on the first block_samples sequences, in the compressed model.
  const bool block_stage = tf && o.block_options.steps > 0;
  eval::Transformer::Hidden hq;
  if (block_stage) hq = first_sequences(hidden, o.block_samples);

  std::optional<Checkpoint> ckpt;
  uint64_t done_layers = 0;
  if (o.checkpoint_dir) {
    ckpt.emplace(*o.checkpoint_dir, "littlebit-compress", checkpoint_config(o, plan));
    if (o.resume) done_layers = ckpt->load().value_or(0);
  }
  ProgressSink& progress = o.progress ? *o.progress : null_progress();
  progress.begin("Factorizing", static_cast<uint64_t>(n_layers), "layers");
  for (int layer = 0; layer < n_layers; ++layer) {
    std::vector<const Planned*> mine;
    for (const auto& p : plan)
      if (p.layer == layer) mine.push_back(&p);
    const bool resumed = static_cast<uint64_t>(layer) < done_layers;
    std::unique_ptr<RowSampler> sampler;
    eval::Transformer::Hidden next_hidden;
    if (resumed) {
      load_layer_checkpoint(ckpt->partial_path("-layer-" + std::to_string(layer) + ".littlebit"), mine_names(mine),
                            factors, stats);
    } else {
      if (tf) {
        sampler = std::make_unique<RowSampler>(layer, stride, o.refine_rows);
        eval::Transformer::Hidden probe = hidden;
        tf->run_layer(layer, probe, sampler.get());
        if (!o.sequential) next_hidden = std::move(probe);
      }
      factorize_layer(src, o, layer, mine, sampler.get(), init, refine_options, block_stage ? &hq : nullptr,
                      o.sequential ? nullptr : &next_hidden, tf.get(), factors, stats);
      if (ckpt) {
        save_layer_checkpoint(ckpt->partial_path("-layer-" + std::to_string(layer) + ".littlebit"), mine_names(mine),
                              factors, stats);
        ckpt->save(static_cast<uint64_t>(layer) + 1);
        if (o.on_checkpoint) o.on_checkpoint(static_cast<uint64_t>(layer) + 1);
      }
    }
    if (block_stage) advance_compressed_states(*tf, overlay, layer, mine, factors, hq);
    if (tf && o.sequential) {
      // Advance the calibration states through the compressed layer.
      for (const Planned* p : mine) overlay.replace(p->name, factors.at(p->name).factors.reconstruct());
      tf->run_layer(layer, hidden);
      overlay.clear();
    } else if (tf) {
      // The next layer sees the original model's states (computed by the probe, or now for resumed layers).
      if (resumed)
        tf->run_layer(layer, hidden);
      else
        hidden = std::move(next_hidden);
    }
    progress.update(static_cast<uint64_t>(layer) + 1, "layer " + std::to_string(layer));
  }
  progress.end();
  if (ckpt) ckpt->clear();
}

}  // namespace

void check_littlebit_options(const LittleBitCompressOptions& opts) {
  const double min_bpw = opts.min_bpw, max_bpw = opts.max_bpw;
  if (!opts.rank && !(opts.target_bpw >= min_bpw && opts.target_bpw <= max_bpw)) {
    std::ostringstream m;
    m << "Target BPW " << opts.target_bpw << " is " << (opts.target_bpw < min_bpw ? "below minimum" : "above maximum")
      << " supported (" << (opts.target_bpw < min_bpw ? min_bpw : max_bpw) << ")";
    throw Error(ErrorCode::InvalidBpwRange, m.str(),
                "Use target BPW between " + format_number(min_bpw) + " and " + format_number(max_bpw));
  }
  check(opts.format == "littlebit" || opts.format == "gguf-ext" || opts.format == "gguf-lossy",
        ErrorCode::InvalidArgument, "`format` must be littlebit, gguf-ext or gguf-lossy, not '" + opts.format + "'",
        "littlebit is the native file; gguf-lossy loads in any llama.cpp");
  check(!opts.quality_threshold || *opts.quality_threshold > 0, ErrorCode::InvalidArgument,
        "`quality_threshold` must be a positive percentage", "e.g. 30 allows perplexity to rise by 30%");
  check(opts.keep_type == DType::F16 || opts.keep_type == DType::BF16 || opts.keep_type == DType::F32,
        ErrorCode::InvalidArgument, "`keep_type` must be F16, BF16 or F32", "F16 is what the paper keeps");
}

LittleBitCompressResult littlebit_compress(const LittleBitCompressOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  check_littlebit_options(opts);
  require_output_apart_from_inputs(opts.output, {opts.model, opts.calibration_data, opts.validation_data});
  auto src = model::open_tensor_source(opts.model);
  check(src->kind() != model::SourceKind::LittleBit, ErrorCode::UnsupportedConversion,
        "'" + opts.model.string() + "' is already LittleBit-compressed", "Compress the original model");
  if (model::has_known_architecture(*src))
    check(!model::validated_config(*src).is_ssm(), ErrorCode::UnsupportedConversion,
          "LittleBit compression of state-space and linear-attention models (Mamba-2, Qwen3.5) is not supported yet",
          "Quantize it to GGUF instead (quantize MODEL gguf)");
  // Block-output matching runs after each layer's refinement; refuse a model it
  // cannot handle before any of that work is done.
  if (opts.refine && opts.block_options.steps > 0) eval::check_block_supported(*src, 0);

  LittleBitCompressOptions o = opts;
  LittleBitCompressResult res;
  StagedOutput staged(opts.output);
  for (int round = 0;; ++round) {
    const auto plan = plan_ranks(*src, o);
    std::map<std::string, LittleBitFactorsOut> factors;
    res.layers.clear();
    factorize_model(*src, o, plan, factors, res.layers);
    write_compressed(*src, o, factors, staged.path(), res);
    res.rank_rounds = round;
    if (!o.validate) break;
    QualityReportOptions q;
    q.original = opts.model;
    q.quantized = staged.path();
    q.data = o.validation_data;
    q.chunks = o.validation_chunks;
    q.threads = o.threads;
    q.progress = o.progress;
    const QualityReport rep = quality_report(q);
    res.validated = true;
    res.perplexity_original = rep.perplexity_original;
    res.perplexity_compressed = rep.perplexity_quantized;
    res.perplexity_delta_pct = rep.perplexity_delta_pct;
    res.quality_passed = !o.quality_threshold || rep.perplexity_delta_pct <= *o.quality_threshold;
    if (res.quality_passed) break;
    if (round >= o.max_rank_rounds)
      throw Error(ErrorCode::LittleBitQualityExceeded,
                  "Quality degradation (" + format_number(rep.perplexity_delta_pct) + "%) exceeds threshold (" +
                      format_number(*o.quality_threshold) + "%)",
                  "Increase target BPW or remove quality threshold");
    raise_worst_ranks(res.layers, o.rank_scale);
    log_info("Perplexity +" + format_number(rep.perplexity_delta_pct) +
             "% exceeds the threshold; raising the rank of the " + "most damaged layers and compressing again");
  }
  staged.commit();
  res.output_path = opts.output;
  res.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_memory_bytes = peak_rss_bytes();
  return res;
}

}  // namespace libquant::jobs
