#include "dynamic_plan.hpp"

#include <algorithm>
#include <cmath>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/model/overlay_source.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/gguf/mixture.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::jobs {

std::string dynamic_reference_type(double target_bpw, bool has_imatrix) {
  if (target_bpw >= 4.0) return "Q4_K_M";
  if (target_bpw >= 3.0) return "Q3_K_M";
  return has_imatrix ? "IQ2_M" : "Q2_K";
}

uint64_t dynamic_target_bytes(const DynamicQuantOptions& o, uint64_t parameter_count) {
  if (o.target_size_bytes) return *o.target_size_bytes;
  check(o.target_bpw.has_value(), ErrorCode::InvalidArgument,
        "`file_type = dynamic` needs a `target_bpw` or a `target_size_bytes`");
  return static_cast<uint64_t>(std::floor(*o.target_bpw * static_cast<double>(parameter_count) / 8.0));
}

io::GgufHeader planned_gguf_header(const std::vector<io::GgufKv>& kvs, const TensorSpecs& tensors) {
  io::GgufHeader h;
  h.kvs = kvs;
  if (const io::GgufValue* a = h.find("general.alignment")) h.alignment = static_cast<uint32_t>(a->as_uint());
  for (const auto& [name, ts] : tensors) h.tensors.push_back(io::GgufTensorInfo{name, ts.first, ts.second, 0});
  io::layout_gguf_tensors(h);
  return h;
}

namespace {

// The imatrix's per-column mean x^2 for a weight (one run of columns per
// matrix of a stacked expert weight), empty when it has none of that width.
std::vector<float> column_importance(const methods::ImportanceMatrix* imatrix, const model::SourceTensor& t) {
  if (!imatrix) return {};
  const auto* e = imatrix->find(t.name);
  const int64_t runs = methods::importance_runs(t.shape);
  return e && static_cast<int64_t>(e->sums.size()) == t.shape.row_length() * runs ? e->mean() : std::vector<float>{};
}

// The importance row `row` (counted across a stack) is weighted by, null when none.
const float* importance_of_row(const std::vector<float>& imp, const model::SourceTensor& t, int64_t row) {
  return methods::importance_of_row(imp, t.shape, static_cast<uint64_t>(row));
}

// The row index sample i of n is taken from (evenly spaced over the tensor).
int64_t sampled_row(int64_t i, int64_t n, int64_t rows) { return i * rows / n; }

// sum_j imp_j w_ij^2 over the sampled rows, scaled to the whole tensor: the
// denominator of the relative error metric.
double weighted_energy(const std::vector<float>& sample, int64_t n, const model::SourceTensor& t,
                       const std::vector<float>& imp) {
  const int64_t rows = t.shape.rows(), cols = t.shape.row_length();
  double energy = 0;
  for (int64_t r = 0; r < n; ++r) {
    const float* w_imp = importance_of_row(imp, t, sampled_row(r, n, rows));
    for (int64_t j = 0; j < cols; ++j) {
      const double w = sample[static_cast<size_t>(r * cols + j)];
      energy += (w_imp ? w_imp[j] : 1.0) * w * w;
    }
  }
  return energy * static_cast<double>(rows) / static_cast<double>(n);
}

// Each candidate's error over the whole tensor, from its sampled rows. A
// stacked expert weight is measured expert by expert, each sampled row
// weighted by its own expert's importance, and the errors add up.
std::vector<methods::QuantOption> measure_tensor(const std::vector<float>& sample, int64_t n,
                                                 const model::SourceTensor& t, const std::vector<float>& imp,
                                                 const std::vector<DType>& allowed, uint64_t alignment,
                                                 ThreadPool& pool) {
  const int64_t rows = t.shape.rows(), cols = t.shape.row_length();
  if (t.shape.rank() != 3 || imp.size() == static_cast<size_t>(cols))
    return methods::measure_options(sample.data(), n, rows, cols, imp.empty() ? nullptr : imp.data(), allowed, &pool);
  std::vector<methods::QuantOption> total;
  auto expert_of = [&](int64_t i) { return sampled_row(i, n, rows) / t.shape[1]; };
  for (int64_t i = 0; i < n;) {  // runs of sampled rows from one expert
    int64_t j = i + 1;
    while (j < n && expert_of(j) == expert_of(i)) ++j;
    const int64_t share = std::max<int64_t>(1, rows * (j - i) / n);  // the rows these samples stand for
    auto part = methods::measure_options(sample.data() + i * cols, j - i, share, cols,
                                         importance_of_row(imp, t, sampled_row(i, n, rows)), allowed, &pool);
    if (total.empty())
      total = std::move(part);
    else
      for (size_t k = 0; k < total.size() && k < part.size(); ++k) total[k].error += part[k].error;
    i = j;
  }
  for (auto& o : total) o.bytes = methods::stored_bytes(o.type, rows, cols, alignment);
  return total;
}

// `n` evenly spaced rows of the tensor, decoded to f32.
std::vector<float> sample_rows(const model::TensorSource& src, const model::SourceTensor& t, int64_t n) {
  const int64_t rows = t.shape.rows(), cols = t.shape.row_length();
  const uint64_t rb = t.nbytes / static_cast<uint64_t>(rows);
  std::vector<std::byte> raw(rb);
  std::vector<float> out(static_cast<size_t>(n * cols));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = sampled_row(i, n, rows);
    src.read_rows(t, static_cast<uint64_t>(r), 1, raw.data());
    gguf::dequantize(t.dtype, raw.data(), out.data() + i * cols, cols);
  }
  return out;
}

// Mean KL(base || probe) per token between two sets of logits [n][vocab].
double mean_kl(const std::vector<float>& base, const std::vector<float>& probe, int64_t vocab) {
  const auto n = static_cast<int64_t>(base.size()) / vocab;
  return n ? eval::sum_kl_divergence(base.data(), probe.data(), n, vocab) / static_cast<double>(n) : 0.0;
}

// Replaces each weight's sensitivity by KL(smallest type) / error(smallest
// type): one forward pass per weight from its own layer on (hidden states of
// the unchanged model are cached per layer).
void refine_with_kl(const model::TensorSource& src, const DynamicQuantOptions& o,
                    const methods::ImportanceMatrix* imatrix, std::vector<methods::TensorOptions>& options,
                    ThreadPool& pool, ProgressSink& progress) {
  auto tok = eval::load_tokenizer(src);
  const std::string text = o.kl_data.empty() ? eval::default_calibration_text() : eval::read_text_file(o.kl_data);
  std::vector<int32_t> tokens = tok->encode_prefix(text, tok->add_bos_by_default(), static_cast<size_t>(o.kl_tokens));
  if (static_cast<int64_t>(tokens.size()) < o.kl_tokens)
    throw Error(ErrorCode::CalibrationDataError,
                "the KL text has fewer than " + std::to_string(o.kl_tokens) + " tokens",
                "Use a longer `kl_data` text or fewer `kl_tokens`");
  tokens.resize(static_cast<size_t>(o.kl_tokens));
  eval::ForwardOptions fo;
  fo.threads = pool.size();
  eval::Transformer base(src, fo);
  const int n_layers = static_cast<int>(base.config().num_layers);
  std::vector<eval::Transformer::Hidden> at_layer;
  eval::Transformer::Hidden h = base.embed({tokens});
  for (int l = 0; l < n_layers; ++l) {
    at_layer.push_back(h);
    base.run_layer(l, h);
  }
  const std::vector<float> ref = base.logits(h, 0);
  const auto vocab = static_cast<int64_t>(ref.size()) / o.kl_tokens;

  model::OverlaySource overlay(src);
  eval::Transformer probe(overlay, fo);
  progress.begin("KL probing", options.size(), "tensors");
  for (size_t k = 0; k < options.size(); ++k) {
    auto& t = options[k];
    const int layer = methods::tensor_layer(t.name);
    const model::SourceTensor* st = src.find(t.name);
    if (layer < 0 || !st || t.options.size() < 2 || t.options.front().error <= 0) continue;
    const int64_t rows = st->shape.rows(), cols = st->shape.row_length();
    const Tensor w = src.read_f32(*st);
    const std::vector<float> imp = column_importance(imatrix, *st);
    const DType low = t.options.front().type;
    std::vector<std::byte> enc(row_bytes(low, cols) * static_cast<uint64_t>(rows));
    std::vector<float> deq(static_cast<size_t>(rows * cols));
    pool.parallel_for(static_cast<size_t>(rows), 16, [&](size_t a, size_t b) {
      for (size_t r = a; r < b; ++r) {  // row by row: an expert's rows take its own importance
        gguf::quantize_rows(low, w.data_as<float>() + r * static_cast<size_t>(cols),
                            enc.data() + r * row_bytes(low, cols), 1, cols,
                            importance_of_row(imp, *st, static_cast<int64_t>(r)));
        gguf::dequantize(low, enc.data() + r * row_bytes(low, cols), deq.data() + r * static_cast<size_t>(cols), cols);
      }
    });
    overlay.replace(t.name, std::move(deq));
    eval::Transformer::Hidden x = at_layer[static_cast<size_t>(layer)];
    for (int l = layer; l < n_layers; ++l) probe.run_layer(l, x);
    const double kl = mean_kl(ref, probe.logits(x, 0), vocab);
    overlay.clear();
    t.sensitivity = std::max(kl, 1e-12) / t.options.front().error;
    progress.update(k + 1, t.name);
  }
  progress.end();
}

}  // namespace

std::set<std::string> apply_profile(const methods::QuantProfile& p,
                                    const std::vector<const model::SourceTensor*>& order, std::vector<DType>& types,
                                    int n_layers, bool use_default, bool quantize_output) {
  std::set<std::string> pinned;
  const methods::ProfileMatcher matcher(p, n_layers);
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& t = *order[i];
    if (!gguf::is_quantizable(t.name, t.shape, quantize_output)) continue;
    const int64_t nx = t.shape.row_length();
    if (const auto rule = matcher.type(t.name)) {
      types[i] = gguf::type_for_rows(*rule, nx);
      pinned.insert(t.name);
    } else if (use_default && p.default_type) {
      types[i] = gguf::type_for_rows(*p.default_type, nx);
    }
  }
  return pinned;
}

DynamicPlan plan_dynamic(const model::TensorSource& src, const std::vector<const model::SourceTensor*>& order,
                         const std::vector<DType>& types, const std::vector<io::GgufKv>& kvs, uint64_t target,
                         const methods::ImportanceMatrix* imatrix, const DynamicQuantOptions& o,
                         const std::set<std::string>& pinned, const std::set<std::string>& protected_tensors,
                         double protection_min_bits, ThreadPool& pool, ProgressSink& progress) {
  if (o.error_metric != "relative" && o.error_metric != "absolute")
    throw Error(ErrorCode::InvalidArgument, "unknown error metric '" + o.error_metric + "'",
                "Use relative or absolute");
  const std::vector<DType> candidates = o.candidates.empty() ? methods::default_dynamic_candidates() : o.candidates;
  // Tensor infos have the same size whatever their type: the header is fixed.
  TensorSpecs specs;
  for (size_t i = 0; i < order.size(); ++i) specs.push_back({order[i]->name, {types[i], order[i]->shape}});
  const io::GgufHeader header = planned_gguf_header(kvs, specs);
  const uint64_t alignment = header.alignment;
  uint64_t fixed = io::serialize_gguf_header(header).size();
  std::vector<size_t> allocatable;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& t = *order[i];
    const bool matrix = t.shape.rank() == 2 || t.shape.rank() == 3;  // 3: stacked experts, one type for all
    if (t.name.rfind("blk.", 0) == 0 && traits(types[i]).is_quantized && matrix && !pinned.count(t.name))
      allocatable.push_back(i);
    else
      fixed += methods::stored_bytes(types[i], t.shape.rank() <= 1 ? 1 : t.shape.rows(),
                                     t.shape.rank() <= 1 ? t.shape.numel() : t.shape.row_length(), alignment);
  }
  std::vector<methods::TensorOptions> options;
  progress.begin("Measuring", allocatable.size(), "tensors");
  for (size_t k = 0; k < allocatable.size(); ++k) {
    const auto& t = *order[allocatable[k]];
    const int64_t rows = t.shape.rows(), cols = t.shape.row_length();
    const int64_t n = std::min<int64_t>(rows, std::max<int64_t>(1, o.sample_rows));
    const std::vector<float> sample = sample_rows(src, t, n);
    const std::vector<float> imp = column_importance(imatrix, t);
    if (imatrix && imp.empty()) log_warning("no importance data for " + t.name + "; its error is unweighted");
    std::vector<DType> allowed = candidates;
    if (protected_tensors.count(t.name)) {
      std::vector<DType> high;
      for (DType c : candidates)
        if (bits_per_weight(c) >= protection_min_bits) high.push_back(c);
      if (!high.empty()) allowed = std::move(high);
    }
    auto measured = measure_tensor(sample, n, t, imp, allowed, alignment, pool);
    if (measured.empty()) {
      // No candidate stores these rows (e.g. 172 wide): keep the mixture's fallback type.
      fixed += methods::stored_bytes(types[allocatable[k]], rows, cols, alignment);
      log_info("no candidate type fits the rows of " + t.name + "; it keeps " +
               std::string(traits(types[allocatable[k]]).name));
    } else {
      double sensitivity = 1.0;
      if (o.error_metric == "relative")
        if (const double energy = weighted_energy(sample, n, t, imp); energy > 0) sensitivity = 1.0 / energy;
      options.push_back({t.name, t.shape, std::move(measured), sensitivity});
    }
    progress.update(k + 1, t.name);
  }
  progress.end();

  if (o.kl_tokens > 0) refine_with_kl(src, o, imatrix, options, pool, progress);

  if (fixed >= target)
    throw Error(ErrorCode::InvalidArgument,
                "the target of " + std::to_string(target) +
                    " bytes does not even hold the tensors outside the blocks (" + std::to_string(fixed) + " bytes)",
                "Raise the `target_bpw` / `target_size_bytes`");

  DynamicPlan plan;
  plan.budget_bytes = target - fixed;
  const methods::BitAllocation a = methods::allocate_bits(options, plan.budget_bytes);
  plan.types = a.types;
  for (const auto& t : options)
    for (const auto& opt : t.options)
      if (opt.type == a.types.at(t.name)) plan.estimated_error[t.name] = opt.error;
  return plan;
}

}  // namespace libquant::jobs
