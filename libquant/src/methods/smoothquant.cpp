#include "libquant/methods/smoothquant.hpp"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <map>

#include "../cpu/ops.hpp"
#include "libquant/calib/channel_max.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/cpu/int8_gemm.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::methods {

namespace {
constexpr const char* kW8a8Linears[] = {"attn_q",      "attn_k",   "attn_v", "attn_qkv",
                                        "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

std::string layer_name(int l, const char* what) { return "blk." + std::to_string(l) + "." + what; }

[[noreturn]] void fail(int layer, const std::string& what) {
  throw Error(ErrorCode::SmoothQuantFailed, "SmoothQuant failed at layer " + std::to_string(layer) + ": " + what,
              "Check the model's weights for NaN/inf, try another `alpha`, or quantize without smoothing (`smooth`)");
}
}  // namespace

std::vector<SmoothingGroup> smoothing_groups(int64_t num_layers, bool include_down) {
  std::vector<SmoothingGroup> g;
  for (int l = 0; l < num_layers; ++l) {
    g.push_back({l,
                 layer_name(l, "attn_norm.weight"),
                 {layer_name(l, "attn_q.weight"), layer_name(l, "attn_k.weight"), layer_name(l, "attn_v.weight")}});
    g.push_back(
        {l, layer_name(l, "ffn_norm.weight"), {layer_name(l, "ffn_gate.weight"), layer_name(l, "ffn_up.weight")}});
    if (include_down) g.push_back({l, layer_name(l, "ffn_up.weight"), {layer_name(l, "ffn_down.weight")}});
  }
  return g;
}

std::vector<SmoothingGroup> smoothing_groups(const model::ModelConfig& cfg, bool include_down) {
  const model::ArchitectureInfo* arch = cfg.arch();
  check(arch != nullptr, ErrorCode::UnsupportedConversion, "no smoothing groups for '" + cfg.architecture + "'");
  if (!arch->fused_projections && !arch->parallel_block && arch->pre_norms)
    return smoothing_groups(cfg.num_layers, include_down);
  std::vector<SmoothingGroup> g;
  for (int l = 0; l < cfg.num_layers; ++l) {
    const std::string norm = layer_name(l, "attn_norm.weight");
    if (arch->fused_projections) {
      g.push_back({l, norm, {layer_name(l, "attn_qkv.weight")}});
      g.push_back({l, layer_name(l, "ffn_norm.weight"), {layer_name(l, "ffn_up.weight")}});
      continue;
    }
    if (arch->parallel_block)
      g.push_back({l,
                   norm,
                   {layer_name(l, "attn_q.weight"), layer_name(l, "attn_k.weight"), layer_name(l, "attn_v.weight"),
                    layer_name(l, "ffn_gate.weight"), layer_name(l, "ffn_up.weight")}});
    if (include_down) g.push_back({l, layer_name(l, "ffn_up.weight"), {layer_name(l, "ffn_down.weight")}});
  }
  return g;
}

std::vector<std::string> unsmoothed_inputs(const model::ModelConfig& cfg, bool include_down) {
  const model::ArchitectureInfo* arch = cfg.arch();
  std::vector<std::string> out;
  if (!arch) return out;
  if (!arch->pre_norms)
    out.push_back(cfg.architecture +
                  " has no norm before attention or the FFN: q/k/v and gate/up inputs stay "
                  "unsmoothed");
  if (arch->fused_projections && include_down)
    out.push_back(cfg.architecture + "'s gate and up share one weight: down_proj's input stays unsmoothed");
  return out;
}

bool is_w8a8_linear(std::string_view gguf_name) noexcept {
  const auto layer = model::gguf_layer_index(gguf_name);
  if (!layer) return false;
  const std::string prefix = "blk." + std::to_string(*layer) + ".";
  for (const char* w : kW8a8Linears)
    if (gguf_name == prefix + w + ".weight") return true;
  return false;
}

std::vector<float> smoothing_scales(std::span<const float> act_max, std::span<const float> weight_col_max,
                                    double alpha) {
  check(act_max.size() == weight_col_max.size(), ErrorCode::InvalidArgument,
        "activation and weight statistics differ in width");
  std::vector<float> s(act_max.size());
  for (size_t j = 0; j < s.size(); ++j) {
    const double a = std::max(static_cast<double>(act_max[j]), 1e-5);
    const double w = std::max(static_cast<double>(weight_col_max[j]), 1e-5);
    s[j] = static_cast<float>(std::max(std::pow(a, alpha) / std::pow(w, 1.0 - alpha), 1e-5));
  }
  return s;
}

void update_column_max(const float* w, int64_t rows, int64_t cols, std::vector<float>& col_max) {
  if (col_max.empty()) col_max.assign(static_cast<size_t>(cols), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      col_max[static_cast<size_t>(c)] = std::max(col_max[static_cast<size_t>(c)], std::fabs(w[r * cols + c]));
}

double w8a8_output_error(std::span<const Tensor* const> weights, const float* x, int64_t rows, int64_t cols,
                         std::span<const float> s, ThreadPool& pool) {
  // Smoothed input x / s, quantized per token.
  std::vector<float> xs(x, x + rows * cols);
  if (!s.empty())
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) xs[r * cols + c] /= s[c];
  std::vector<int8_t> qx(xs.size());
  std::vector<float> sx(static_cast<size_t>(rows));
  cpu::quantize_rows_int8(xs.data(), rows, cols, qx.data(), sx.data());
  // Per token: squared error and squared output over all the linears.
  std::vector<double> err(static_cast<size_t>(rows), 0.0), ref(static_cast<size_t>(rows), 0.0);
  for (const Tensor* wt : weights) {
    const int64_t out = static_cast<int64_t>(wt->shape().rows());
    std::vector<float> y(static_cast<size_t>(rows * out)), ws(wt->data_as<float>(), wt->data_as<float>() + out * cols);
    cpu::linear(x, rows, cols, wt->data_as<float>(), out, nullptr, y.data());
    if (!s.empty())
      for (int64_t r = 0; r < out; ++r)
        for (int64_t c = 0; c < cols; ++c) ws[r * cols + c] *= s[c];
    std::vector<int8_t> qw(ws.size());
    std::vector<float> sw(static_cast<size_t>(out));
    cpu::quantize_rows_int8(ws.data(), out, cols, qw.data(), sw.data());
    std::vector<int32_t> acc(y.size());
    cpu::gemm_s8s8s32(qx.data(), qw.data(), acc.data(), rows, out, cols, &pool);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < out; ++c) {
        const double yq = static_cast<double>(acc[r * out + c]) * sx[r] * sw[c], yr = y[r * out + c];
        err[r] += (yq - yr) * (yq - yr);
        ref[r] += yr * yr;
      }
  }
  // The mean of the tokens' relative errors: a few tokens with massive
  // activations would otherwise decide the choice for all the others.
  double sum = 0;
  for (int64_t r = 0; r < rows; ++r) sum += ref[r] > 0 ? err[r] / ref[r] : 0.0;
  return rows > 0 ? sum / static_cast<double>(rows) : 0.0;
}

struct SmoothQuantQuantizer::Impl {
  const model::TensorSource& src;
  SmoothQuantOptions opts;
  ThreadPool pool;
  model::ModelConfig cfg;
  std::unique_ptr<calib::ChannelMaxCollector> stats;
  std::vector<GroupPlan> plans;
  std::map<std::string, std::vector<size_t>, std::less<>> groups_of;  // tensor name -> plans that change it
  std::vector<std::vector<float>> col_max;                            // per plan: max |W_j| over the group's linears
  std::vector<std::vector<double>> grid_error;  // per plan (search only): local error at each grid alpha
  std::vector<std::vector<int32_t>> eval_seqs;  // calibration sequences the search's KL is measured on
  std::vector<AlphaCandidate> tried;            // the search's whole-model candidates

  Impl(const model::TensorSource& s, SmoothQuantOptions o)
      : src(s), opts(std::move(o)), pool(opts.threads), cfg(eval::forward_config(s)) {
    if (opts.alpha_grid.empty())
      for (int i = 0; i <= 20; ++i) opts.alpha_grid.push_back(i / 20.0);  // 0.7, not 14 * 0.05
    if (opts.alpha) check(*opts.alpha >= 0 && *opts.alpha <= 1, ErrorCode::InvalidArgument, "alpha must lie in [0, 1]");
    // The search always considers down_proj's group: with the whole-model
    // choice it helps (SmolLM2: +0.86% instead of +2.0% perplexity).
    for (const auto& g : smoothing_groups(cfg, opts.smooth_down || searching()))
      plans.push_back({g, std::nullopt, {}, -1, -1});
    for (size_t i = 0; i < plans.size(); ++i) {
      groups_of[plans[i].group.norm].push_back(i);
      for (const auto& l : plans[i].group.linears) groups_of[l].push_back(i);
    }
  }

  bool searching() const { return opts.smooth && !opts.alpha; }

  const model::SourceTensor& tensor(const std::string& name) const {
    const model::SourceTensor* t = src.find(name);
    check(t != nullptr, ErrorCode::ValidationFailed, "model has no tensor '" + name + "'");
    return *t;
  }

  void calibrate(const std::vector<std::vector<int32_t>>& samples, int64_t batch, ProgressSink& progress,
                 CalibrationResume* resume) {
    check(!samples.empty() && batch > 0, ErrorCode::InvalidArgument, "no calibration samples");
    std::vector<std::string> sampled;
    int64_t stride = 0;
    if (searching()) {
      for (const auto& p : plans) sampled.push_back(p.group.linears.front());
      const int64_t total = static_cast<int64_t>(samples.size() * samples.front().size());
      stride = std::max<int64_t>(1, total / std::max<int64_t>(opts.sample_rows, 1));
    }
    stats = std::make_unique<calib::ChannelMaxCollector>(sampled, stride);
    size_t first = 0;
    if (resume && resume->done > 0) {
      check(resume->done <= samples.size() &&
                (resume->done == samples.size() || resume->done % static_cast<size_t>(batch) == 0),
            ErrorCode::InvalidArgument, "resumed calibration does not end on a batch of these samples");
      stats->restore(std::move(resume->restored));
      first = resume->done;
    }
    eval_seqs.assign(
        samples.begin(),
        samples.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(
                              samples.size(), static_cast<size_t>(std::max<int64_t>(opts.eval_samples, 1)))));
    eval::ForwardOptions fo;
    fo.threads = opts.threads;
    fo.streaming = true;
    eval::Transformer model(src, fo);
    progress.begin("Calibrating", samples.size(), "samples");
    progress.update(first, "");
    for (size_t b0 = first; b0 < samples.size(); b0 += static_cast<size_t>(batch)) {
      const size_t b1 = std::min(samples.size(), b0 + static_cast<size_t>(batch));
      std::vector<std::vector<int32_t>> chunk(samples.begin() + static_cast<std::ptrdiff_t>(b0),
                                              samples.begin() + static_cast<std::ptrdiff_t>(b1));
      eval::Transformer::Hidden h = model.embed(chunk);
      for (int l = 0; l < cfg.num_layers; ++l) model.run_layer(l, h, stats.get());
      if (resume && resume->after_batch) resume->after_batch(b1);
      progress.update(b1, "");
    }
    progress.end();
  }

  const std::vector<float>& activation_max(const GroupPlan& p) const {
    const std::string& in = p.group.linears.front();
    const std::vector<float>* a = stats ? stats->channel_max(in) : nullptr;
    if (!a) fail(p.group.layer, "no calibration statistics for the input of '" + in + "'");
    return *a;  // finite: plan() stops first when any calibration input was not
  }

  void plan_group(size_t i) {
    GroupPlan& p = plans[i];
    const std::vector<float>& act = activation_max(p);
    std::vector<Tensor> w;
    for (const auto& name : p.group.linears) {
      w.push_back(src.read_f32(tensor(name)));
      const Tensor& t = w.back();
      update_column_max(t.data_as<float>(), static_cast<int64_t>(t.shape().rows()),
                        static_cast<int64_t>(t.shape().row_length()), col_max[i]);
    }
    for (float v : col_max[i])
      if (!std::isfinite(v)) fail(p.group.layer, "weights of '" + p.group.linears.front() + "' are not finite");
    if (opts.alpha) {
      p.alpha = opts.alpha;
      p.scales = checked_scales(p, smoothing_scales(act, col_max[i], *opts.alpha));
      return;
    }
    const std::vector<float>* x = stats->samples(p.group.linears.front());
    if (!x || x->empty()) fail(p.group.layer, "no activation samples for the alpha search");
    const auto cols = static_cast<int64_t>(act.size()), rows = static_cast<int64_t>(x->size()) / cols;
    std::vector<const Tensor*> ptrs;
    ptrs.reserve(w.size());
    for (const auto& t : w) ptrs.push_back(&t);
    p.error_unsmoothed = w8a8_output_error(ptrs, x->data(), rows, cols, {}, pool);
    p.error = p.error_unsmoothed;
    for (double a : opts.alpha_grid) {
      auto sc = smoothing_scales(act, col_max[i], a);
      grid_error[i].push_back(w8a8_output_error(ptrs, x->data(), rows, cols, sc, pool));
      if (grid_error[i].back() < p.error) {
        p.error = grid_error[i].back();
        p.alpha = a;
        p.scales = checked_scales(p, std::move(sc));
      }
    }
  }

  std::vector<float> checked_scales(const GroupPlan& p, std::vector<float> sc) const {
    for (float v : sc)
      if (!std::isfinite(v) || v <= 0)
        fail(p.group.layer, "smoothing scales for '" + p.group.norm + "' are not finite and positive");
    return sc;
  }

  // The evaluation sequences' hidden states after the last layer: one pass,
  // so each layer's weights are loaded (and smoothed and quantized) once.
  eval::Transformer::Hidden final_hidden(eval::Transformer& m) const {
    eval::Transformer::Hidden h = m.embed(eval_seqs);
    for (int l = 0; l < cfg.num_layers; ++l) m.run_layer(l, h);
    return h;
  }

  static eval::Transformer::Hidden sequence(const eval::Transformer::Hidden& h, int64_t s) {
    const auto per = static_cast<std::ptrdiff_t>(h.h.size() / static_cast<size_t>(h.batch));
    return {1, h.seq, std::vector<float>(h.h.begin() + s * per, h.h.begin() + (s + 1) * per)};
  }

  // Mean KL divergence of the next-token distribution of the W8A8 model
  // smoothed with each candidate's scales against the float model, over the
  // evaluation sequences. Weights are smoothed and quantized as they stream
  // in, so memory stays at one layer per model plus the final hidden states.
  std::vector<double> mean_kl(const std::vector<std::vector<std::vector<float>>>& cands, ProgressSink& progress) {
    eval::ForwardOptions rf;
    rf.threads = opts.threads;
    eval::Transformer ref(src, rf);
    progress.begin("Choosing alpha", cands.size() + 1, "models");
    const eval::Transformer::Hidden href = final_hidden(ref);
    progress.update(1, "float");
    std::vector<std::unique_ptr<eval::Transformer>> q;
    std::vector<eval::Transformer::Hidden> hq;
    for (size_t c = 0; c < cands.size(); ++c) {
      const auto& sc = cands[c];
      eval::ForwardOptions f = rf;
      f.simulate_w8a8 = true;
      f.transform = [this, &sc](const model::SourceTensor& t, Tensor x) {
        return smooth(t, std::move(x), [&sc](size_t i) -> const std::vector<float>& { return sc[i]; });
      };
      q.push_back(std::make_unique<eval::Transformer>(src, f));
      hq.push_back(final_hidden(*q.back()));
      progress.update(c + 2, tried.size() > c ? tried[c].name : "");
    }
    progress.end();
    std::vector<double> kl(cands.size(), 0.0);
    for (int64_t s = 0; s < href.batch; ++s) {
      const auto r = ref.logits(sequence(href, s), 0);
      const int64_t V = static_cast<int64_t>(r.size()) / href.seq;
      for (size_t c = 0; c < cands.size(); ++c)
        kl[c] += eval::sum_kl_divergence(r.data(), q[c]->logits(sequence(hq[c], s), 0).data(), href.seq, V);
    }
    const auto positions = static_cast<double>(std::max<int64_t>(href.batch * href.seq, 1));
    for (auto& k : kl) k /= positions;
    return kl;
  }

  // --alpha auto, second step: the per-group choices, no smoothing, and one
  // alpha for every group are compared on the whole model's output (local
  // errors do not see how q/k errors pass through softmax or gate/up errors
  // through down_proj), and the least KL divergence wins.
  void choose_by_kl(ProgressSink& progress) {
    std::vector<std::vector<std::vector<float>>> cands;
    std::vector<std::optional<size_t>> grid_index;  // nullopt: per-group or none
    cands.emplace_back();
    for (const auto& p : plans) cands.back().push_back(p.scales);
    tried = {{"per-group search", 0}};
    grid_index.push_back(std::nullopt);
    cands.emplace_back(plans.size());
    tried.push_back({"no smoothing", 0});
    grid_index.push_back(std::nullopt);
    for (size_t k = 0; k < opts.alpha_grid.size(); ++k) {
      const double a = opts.alpha_grid[k];
      if (std::find_if(opts.uniform_alphas.begin(), opts.uniform_alphas.end(),
                       [a](double u) { return std::fabs(u - a) < 1e-9; }) == opts.uniform_alphas.end())
        continue;
      cands.emplace_back();
      for (size_t i = 0; i < plans.size(); ++i)
        cands.back().push_back(checked_scales(plans[i], smoothing_scales(activation_max(plans[i]), col_max[i], a)));
      char name[32];
      std::snprintf(name, sizeof name, "alpha %.2f everywhere", a);
      tried.push_back({name, 0});
      grid_index.push_back(k);
    }
    const auto kl = mean_kl(cands, progress);
    size_t best = 0;
    for (size_t c = 0; c < kl.size(); ++c) {
      tried[c].kl = kl[c];
      if (kl[c] < kl[best]) best = c;
    }
    if (best == 0) return;  // the per-group choices stand
    for (size_t i = 0; i < plans.size(); ++i) {
      GroupPlan& p = plans[i];
      p.scales = cands[best][i];
      if (grid_index[best]) {
        p.alpha = opts.alpha_grid[*grid_index[best]];
        p.error = grid_error[i][*grid_index[best]];
      } else {
        p.alpha.reset();
        p.error = p.error_unsmoothed;
      }
    }
  }

  void plan(ProgressSink& progress) {
    if (stats && !stats->first_non_finite().empty()) {
      const std::string& w = stats->first_non_finite();
      fail(model::gguf_layer_index(w).value_or(-1), "activations into '" + w + "' are not finite (NaN or inf)");
    }
    if (!opts.smooth) return;
    col_max.assign(plans.size(), {});
    grid_error.assign(plans.size(), {});
    progress.begin("Smoothing", plans.size(), "groups");
    for (size_t i = 0; i < plans.size(); ++i) {
      plan_group(i);
      progress.update(i + 1, plans[i].group.norm);
    }
    progress.end();
    if (searching() && !opts.uniform_alphas.empty()) choose_by_kl(progress);
  }

  void restore_plan(std::vector<GroupPlan> restored, std::vector<AlphaCandidate> candidates) {
    const auto bad = [](int layer, const std::string& what) { fail(layer, "checkpointed plan " + what); };
    if (restored.size() != plans.size()) bad(-1, "has another number of smoothing groups");
    for (size_t i = 0; i < plans.size(); ++i) {
      const GroupPlan& p = restored[i];
      if (p.group.norm != plans[i].group.norm || p.group.linears != plans[i].group.linears)
        bad(plans[i].group.layer, "does not match group '" + plans[i].group.norm + "'");
      if (!p.scales.empty()) {
        const auto width = static_cast<size_t>(tensor(p.group.linears.front()).shape.row_length());
        if (p.scales.size() != width) bad(p.group.layer, "has scales of the wrong width for '" + p.group.norm + "'");
        checked_scales(p, p.scales);
      }
    }
    plans = std::move(restored);
    tried = std::move(candidates);
  }

  // The smoothed group whose input `linear` reads (null when unsmoothed).
  const GroupPlan* input_plan(std::string_view linear) const {
    auto it = groups_of.find(linear);
    if (it == groups_of.end()) return nullptr;
    for (size_t i : it->second) {
      const GroupPlan& p = plans[i];
      if (!p.scales.empty() &&
          std::find(p.group.linears.begin(), p.group.linears.end(), linear) != p.group.linears.end())
        return &p;
    }
    return nullptr;
  }

  Tensor smoothed_f32(const model::SourceTensor& t) const {
    Tensor f = src.read_f32(t);
    src.release(t);
    return smooth(t, std::move(f), [this](size_t i) -> const std::vector<float>& { return plans[i].scales; });
  }

  // `f` (tensor t in f32) with the scales of every group it belongs to:
  // norms divided element-wise, producing linears row-wise, consuming
  // linears' columns multiplied. scales_of(plan index) may be empty.
  template <typename ScalesOf>
  Tensor smooth(const model::SourceTensor& t, Tensor f, ScalesOf scales_of) const {
    auto it = groups_of.find(t.name);
    if (it == groups_of.end()) return f;
    float* v = f.data_as<float>();
    const auto rows = static_cast<int64_t>(f.shape().rank() <= 1 ? 1 : f.shape().rows());
    const auto cols = static_cast<int64_t>(f.shape().row_length());
    for (size_t i : it->second) {
      const std::vector<float>& s = scales_of(i);
      if (s.empty()) continue;
      const bool producer = t.name == plans[i].group.norm;
      check(static_cast<int64_t>(s.size()) == (producer && rows > 1 ? rows : cols), ErrorCode::ValidationFailed,
            "'" + t.name + "' does not match its smoothing group");
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          float& x = v[r * cols + c];
          if (!producer)
            x *= s[static_cast<size_t>(c)];
          else
            x /= s[static_cast<size_t>(rows > 1 ? r : c)];
        }
    }
    return f;
  }

  float input_scale(const std::string& name) const {
    const std::vector<float>* a = stats ? stats->channel_max(name) : nullptr;
    check(a != nullptr, ErrorCode::SmoothQuantFailed, "no calibration statistics for the input of '" + name + "'");
    const GroupPlan* p = input_plan(name);
    float m = 0;
    for (size_t j = 0; j < a->size(); ++j) m = std::max(m, (*a)[j] / (p ? p->scales[j] : 1.0f));
    check(std::isfinite(m), ErrorCode::SmoothQuantFailed, "activations into '" + name + "' are not finite");
    return cpu::int8_scale(m);
  }
};

SmoothQuantQuantizer::SmoothQuantQuantizer(const model::TensorSource& source, SmoothQuantOptions opts)
    : impl_(std::make_unique<Impl>(source, std::move(opts))) {}
SmoothQuantQuantizer::~SmoothQuantQuantizer() = default;

bool SmoothQuantQuantizer::needs_calibration() const noexcept {
  return impl_->opts.smooth || impl_->opts.static_activations;
}

void SmoothQuantQuantizer::calibrate(const std::vector<std::vector<int32_t>>& samples, int64_t batch,
                                     ProgressSink* progress, CalibrationResume* resume) {
  impl_->calibrate(samples, batch, progress ? *progress : null_progress(), resume);
}

const calib::ChannelMaxCollector* SmoothQuantQuantizer::statistics() const noexcept { return impl_->stats.get(); }

void SmoothQuantQuantizer::restore_plan(std::vector<GroupPlan> groups, std::vector<AlphaCandidate> candidates) {
  impl_->restore_plan(std::move(groups), std::move(candidates));
}

void SmoothQuantQuantizer::plan(ProgressSink* progress) { impl_->plan(progress ? *progress : null_progress()); }

const std::vector<GroupPlan>& SmoothQuantQuantizer::groups() const noexcept { return impl_->plans; }
const std::vector<AlphaCandidate>& SmoothQuantQuantizer::candidates() const noexcept { return impl_->tried; }

Tensor SmoothQuantQuantizer::smoothed_f32(const model::SourceTensor& t) const { return impl_->smoothed_f32(t); }

Int8Weight SmoothQuantQuantizer::quantize(const model::SourceTensor& t) const {
  const Tensor f = impl_->smoothed_f32(t);
  const auto rows = static_cast<int64_t>(f.shape().rows()), cols = static_cast<int64_t>(f.shape().row_length());
  Int8Weight w;
  w.q.resize(static_cast<size_t>(rows * cols));
  w.scales.resize(static_cast<size_t>(rows));
  cpu::quantize_rows_int8(f.data_as<float>(), rows, cols, w.q.data(), w.scales.data());
  return w;
}

float SmoothQuantQuantizer::input_scale(const std::string& gguf_name) const { return impl_->input_scale(gguf_name); }

}  // namespace libquant::methods
