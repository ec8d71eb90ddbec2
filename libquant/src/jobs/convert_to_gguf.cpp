#include "libquant/jobs/convert_to_gguf.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <map>
#include <set>

#include "libquant/core/output_guard.hpp"
#include "libquant/core/checkpoint.hpp"
#include "libquant/backend/backend.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/mixture.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "libquant/methods/super_weights.hpp"
#include "libquant/eval/hf_tokenizer.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/model_validation.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "gguf_output_edits.hpp"
#include "libquant/model/tensor_source.hpp"
#include "dynamic_plan.hpp"
#include "gguf_gptq.hpp"
#include "peak_memory.hpp"
#include "gguf_tensor_streamer.hpp"
#include "tensor_order.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

// Metadata for a GGUF input as llama-quantize writes it: the input's keys,
// file_type and quantization_version moved to the end with new values, split
// keys dropped, then the imatrix provenance keys.
std::vector<io::GgufKv> requantize_metadata(const io::GgufHeader& in, model::LlamaFileType ft) {
  std::vector<io::GgufKv> kvs;
  for (const auto& kv : in.kvs)
    if (kv.key != "general.file_type" && kv.key != "general.quantization_version" && kv.key.rfind("split.", 0) != 0)
      kvs.push_back(kv);
  kvs.push_back({"general.quantization_version", io::GgufValue::u32(2)});
  kvs.push_back({"general.file_type", io::GgufValue::u32(static_cast<uint32_t>(ft))});
  return kvs;
}

// Set, not appended: a requantized file may carry the keys from its own imatrix already.
void append_imatrix_metadata(std::vector<io::GgufKv>& kvs, const fs::path& file, const methods::ImportanceMatrix& m) {
  // llama-quantize records the path as given (at most 127 bytes).
  set_kv(kvs, {"quantize.imatrix.file", io::GgufValue::str(file.string().substr(0, 127))});
  if (!m.datasets.empty() && !m.datasets.front().empty())
    set_kv(kvs, {"quantize.imatrix.dataset", io::GgufValue::str(m.datasets.front().substr(0, 127))});
  // Counts are UINT32 since llama.cpp PR 14182 (INT32 in February 2025's files).
  set_kv(kvs, {"quantize.imatrix.entries_count", io::GgufValue::u32(static_cast<uint32_t>(m.entries().size()))});
  if (m.chunks > 0) set_kv(kvs, {"quantize.imatrix.chunks_count", io::GgufValue::u32(static_cast<uint32_t>(m.chunks))});
}

std::string dominant_dtype(const model::TensorSource& src) {
  std::map<DType, uint64_t> count;
  for (const auto& t : src.tensors()) count[t.dtype] += t.shape.numel();
  if (count.empty()) return "unknown";
  const auto it = std::max_element(count.begin(), count.end(), [](auto& a, auto& b) { return a.second < b.second; });
  return std::string(torch_dtype_name(it->first));
}

// The type a tensor has before llama-quantize's rules apply. GGUF input: its
// stored type. HF input: what convert_hf_to_gguf.py would have written
// (1-D tensors, norms and expert routers F32, other tensors F32 or F16 by source width).
bool converter_keeps_f32(const model::SourceTensor& t) {
  const std::string_view n = t.name;
  return t.shape.rank() <= 1 || n.ends_with("_norm.weight") || n.ends_with(".ffn_gate_inp.weight") ||
         n.ends_with(".ffn_gate_inp_shexp.weight") || n.ends_with(".ssm_conv1d.weight") || !n.ends_with(".weight");
}

DType stored_type(const model::SourceTensor& t, bool hf) {
  if (!hf) return t.dtype;
  if (converter_keeps_f32(t)) return DType::F32;
  return t.dtype == DType::F32 || t.dtype == DType::F64 ? DType::F32 : DType::F16;
}

// A tensor of a multi-token-prediction block (Qwen3.5's blocks after the model's own layers).
bool in_prediction_block(const model::SourceTensor& t, const model::ModelConfig& cfg) {
  const auto layer = model::gguf_layer_index(t.name);
  return cfg.nextn_layers > 0 && layer && *layer >= cfg.num_layers;
}

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

gguf::MixtureModel mixture_model(const model::TensorSource& src, const model::ModelConfig& cfg) {
  gguf::MixtureModel m;
  if (const io::GgufHeader* h = model::gguf_header(src)) {
    if (const auto* a = h->find("general.architecture")) m.arch = a->as_string();
    if (const auto* e = h->find(m.arch + ".expert_count")) m.n_expert = e->as_int();
  } else if (const auto* info = cfg.arch()) {
    m.arch = std::string(info->gguf_arch);
    m.n_expert = cfg.num_experts;
  }
  m.n_layer = cfg.total_blocks();  // llama-quantize counts multi-token-prediction blocks too
  m.n_head = cfg.num_heads;
  m.n_head_kv = cfg.num_kv_heads ? cfg.num_kv_heads : cfg.num_heads;
  // A family without model validation still feeds these counts to the
  // mixture rules (layer positions, GQA ratio): they must be plausible.
  auto plausible = [](int64_t v, int64_t hi, const char* what) {
    check(v >= 0 && v <= hi, ErrorCode::ValidationFailed,
          std::string("invalid GGUF metadata: ") + what + " is " + std::to_string(v),
          "The file is corrupt or crafted; re-create or re-download it");
  };
  plausible(m.n_layer, int64_t{1} << 16, "block_count");
  plausible(m.n_head, int64_t{1} << 20, "attention.head_count");
  plausible(m.n_head_kv, int64_t{1} << 20, "attention.head_count_kv");
  plausible(m.n_expert, int64_t{1} << 16, "expert_count");
  m.is_70b = m.arch == "llama" && m.n_layer == 80;
  return m;
}

// Everything that changes the output bytes, for the checkpoint identity.
std::string job_config(const ConvertToGgufOptions& o,
                       const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& specs) {
  std::string c = "input=" + file_identity(o.input) + "\noutput=" + fs::absolute(o.output).lexically_normal().string() +
                  "\ntype=" + o.file_type + "\nname=" + o.model_name;
  if (o.imatrix) c += "\nimatrix=" + file_identity(*o.imatrix);
  for (const auto& part : o.imatrix_include) c += "\nimatrix_include=" + part;
  for (const auto& part : o.imatrix_exclude) c += "\nimatrix_exclude=" + part;
  c += "\nrequantize=" + std::to_string(o.allow_requantize);
  if (o.super_weights)
    c += "\nsuper_weights=" + file_identity(*o.super_weights) + "\ncoverage=" + std::to_string(o.protection_coverage) +
         "\nboost=" + std::to_string(o.protection_boost);
  if (o.gptq)  // the swept data depends on the calibration as much as on the weights
    c += "\ngptq=" + file_identity(o.gptq->calibration_data) + "|" + std::to_string(o.gptq->calibration_samples) + "|" +
         std::to_string(o.gptq->seq_len) + "|" + std::to_string(o.gptq->batch) + "|" + std::to_string(o.gptq->damp);
  for (const auto& kv : o.metadata_overrides)  // the header's size, and so every offset, depends on them
    c += "\nkv=" + kv.key + ":" + io::gguf_type_name(kv.value.type()) + ":" + kv.value.to_display_string(SIZE_MAX);
  for (const auto& [name, ts] : specs) c += "\n" + name + ":" + std::string(traits(ts.first).name);
  return c;
}

std::vector<float> importance_for(const methods::ImportanceMatrix& m, const model::SourceTensor& t) {
  const methods::ImatrixEntry* e = m.find(t.name);
  if (!e) {
    log_info("no importance data for " + t.name);
    return {};
  }
  const int64_t n_mat = methods::importance_runs(t.shape);
  if (static_cast<int64_t>(e->sums.size()) != t.shape.row_length() * n_mat) {
    if (t.name == "token_embd.weight") return {};  // llama.cpp only warns here
    throw Error(ErrorCode::ImatrixInvalid,
                "importance matrix has " + std::to_string(e->sums.size()) + " columns for '" + t.name +
                    "', the tensor has " + std::to_string(t.shape.row_length() * n_mat),
                "Compute the imatrix on this model (`analyze`)");
  }
  return e->mean();
}

// The 2026 llama-quantize refuses these without importance data: the
// i-quants of 3 bits and fewer, and Q2_K in a Q2_K_S file -- except for the
// token embeddings and the output, which it always lets through. (February
// 2025's also let IQ3_XXS through, and the output only at IQ1_M.)
bool needs_importance(DType t, const std::string& name, model::LlamaFileType ft) {
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight" || name == "output.weight") return false;
  if (gguf::requires_importance(t)) return true;
  return t == DType::Q2_K && ft == model::LlamaFileType::MostlyQ2_K_S;
}

// -q dynamic: what the allocation needs: the size target from the options,
// else from the profile; none when a profile without a target decides alone.
std::optional<DynamicQuantOptions> allocation_options(const ConvertToGgufOptions& opts, bool dynamic) {
  if (!dynamic && opts.profile)
    throw Error(ErrorCode::InvalidArgument, "a `profile` needs `file_type = dynamic`",
                "Use `file_type = dynamic` with the `profile`");
  if (!dynamic) return std::nullopt;
  std::optional<DynamicQuantOptions> d = opts.dynamic;
  const bool has_target = d && (d->target_bpw || d->target_size_bytes);
  if (opts.profile && !has_target) {
    if (!opts.profile->target_bpw) return std::nullopt;  // rules and default only
    if (!d) d.emplace();
    d->target_bpw = opts.profile->target_bpw;
  }
  if (!d)
    throw Error(ErrorCode::InvalidArgument, "`file_type = dynamic` needs a size target or a profile",
                "Add a `target_bpw` (bits per weight of the whole file), a `target_size_bytes` or a `profile`");
  if (d->candidates.empty() && opts.profile) d->candidates = opts.profile->candidates;
  return d;
}

// The imatrix with only the entries imatrix_include / imatrix_exclude leave;
// none when nothing is left (llama-quantize then runs as without one).
std::optional<methods::ImportanceMatrix> filtered_imatrix(const ConvertToGgufOptions& opts) {
  check(opts.imatrix_include.empty() || opts.imatrix_exclude.empty(), ErrorCode::InvalidArgument,
        "`imatrix_include` and `imatrix_exclude` exclude each other", "Give one list of name parts");
  methods::ImportanceMatrix m = methods::ImportanceMatrix::load(*opts.imatrix);
  auto mentions = [](const std::vector<std::string>& parts, const std::string& name) {
    return std::any_of(parts.begin(), parts.end(), [&](const std::string& p) { return name.find(p) != name.npos; });
  };
  if (!opts.imatrix_exclude.empty()) m.erase_if([&](auto& e) { return mentions(opts.imatrix_exclude, e.name); });
  if (!opts.imatrix_include.empty()) m.erase_if([&](auto& e) { return !mentions(opts.imatrix_include, e.name); });
  if (!m.entries().empty()) return m;
  log_warning("no imatrix entry is left after the include/exclude lists; quantizing without one");
  return std::nullopt;
}

// prune_layers, checked against the model's blocks and the options that need the whole model.
LayerPruning layer_pruning(const ConvertToGgufOptions& opts, int64_t n_blocks, bool dynamic) {
  if (opts.prune_layers.empty()) return {};
  check(!dynamic && !opts.profile && !opts.super_weights && !opts.gptq, ErrorCode::InvalidArgument,
        "`prune_layers` does not combine with `file_type = dynamic`, a `profile`, `super_weights` or `gptq`",
        "They measure the whole model: prune in a run of its own first");
  return LayerPruning(opts.prune_layers, n_blocks);
}

// --protect-super-weights: the tensors holding a listed super weight, and per
// tensor the flat indices (super weights, then the saliency mask) encoded with
// boosted importance.
struct Protection {
  std::set<std::string> tensors;
  methods::SaliencyMask mask;
};

Protection load_protection(const ConvertToGgufOptions& opts, const model::TensorSource& src,
                           const methods::ImportanceMatrix* imatrix, bool dynamic) {
  if (!imatrix)
    throw Error(ErrorCode::InvalidArgument, "super-weight protection needs an importance matrix (`imatrix`)",
                "The saliency of a weight is |w| sqrt(imatrix): pass the importance matrix of this model");
  if (!dynamic)
    throw Error(ErrorCode::InvalidArgument, "super-weight protection needs `file_type = dynamic`",
                "Use `file_type = dynamic` with a `target_bpw` and the super-weight protection");
  Protection p;
  for (const auto& w : methods::load_super_weights(*opts.super_weights).found) {
    const model::SourceTensor* t = src.find(w.tensor);
    if (!t || t->shape.rank() != 2 || w.row < 0 || w.col < 0 || static_cast<uint64_t>(w.row) >= t->shape.rows() ||
        static_cast<uint64_t>(w.col) >= static_cast<uint64_t>(t->shape.row_length()))
      throw Error(ErrorCode::ImatrixInvalid,
                  "super weight " + w.tensor + "[" + std::to_string(w.row) + ", " + std::to_string(w.col) +
                      "] is not in this model",
                  "Use the super-weight file analyze wrote for this model");
    p.tensors.insert(w.tensor);
    p.mask.indices[w.tensor].push_back(w.row * t->shape.row_length() + w.col);
  }
  for (auto& [name, idx] : methods::saliency_mask(src, *imatrix, opts.protection_coverage).indices)
    p.mask.indices[name].insert(p.mask.indices[name].end(), idx.begin(), idx.end());
  return p;
}

// Everything decided before the first byte is written: types, metadata,
// per-tensor importance.
struct Prepared {
  std::unique_ptr<model::TensorSource> src;
  ConvertToGgufResult res;
  std::vector<io::GgufKv> kvs;
  std::vector<TensorPlan> plans;
  std::vector<std::pair<std::string, std::pair<DType, Shape>>> specs;
  std::unique_ptr<ThreadPool> pool;
  model::ModelConfig cfg;
  GgufGptqOutput gptq;  // --gptq: the swept linears' data
};

// `planning_only`: nothing will be encoded, so a tensor that would need
// importance data without having any is noted instead of refused (as
// llama-quantize's --dry-run warns).
Prepared prepare(const ConvertToGgufOptions& opts, bool planning_only) {
  Prepared P;
  P.res.file_type = opts.file_type;
  const bool dynamic = gguf::is_dynamic_type_name(opts.file_type);
  check(!(opts.gptq && opts.super_weights), ErrorCode::InvalidArgument,
        "GPTQ error feedback and super-weight protection do not combine (both steer the same encoders)",
        "Drop one of `gptq` and `super_weights`");
  if (!dynamic && !gguf::find_file_type(opts.file_type))
    throw Error(ErrorCode::InvalidArgument, "unknown GGUF file type '" + opts.file_type + "'",
                "Use a llama-quantize type name such as Q4_K_M, Q8_0 or F16, or dynamic");
  const std::optional<DynamicQuantOptions> dyn_opts = allocation_options(opts, dynamic);
  std::optional<methods::ImportanceMatrix> imatrix;
  if (opts.imatrix) imatrix = filtered_imatrix(opts);
  P.src = model::open_tensor_source(opts.input);
  model::TensorSource* src = P.src.get();
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();

  ConvertToGgufResult& res = P.res;
  std::string type_name = opts.file_type;
  if (dynamic) {
    double bpw = 0;
    if (dyn_opts) {
      res.target_bytes = dynamic_target_bytes(*dyn_opts, src->parameter_count());
      bpw = 8.0 * static_cast<double>(res.target_bytes) / static_cast<double>(src->parameter_count());
    } else {
      const DType d = opts.profile->default_type.value_or(DType::Q4_K);
      bpw = bits_per_weight(d);
    }
    type_name = res.reference_type = dynamic_reference_type(bpw, imatrix.has_value());
  }
  // Whether importance data is needed is decided per tensor below, on the
  // type each tensor ends up with (as the 2026 llama-quantize: a model whose
  // rows all fall back to IQ4_NL quantizes "IQ2_XXS" without one).
  const auto ft = gguf::find_file_type(type_name);

  const bool hf = model::hf_config(*src) != nullptr;
  // Known families are validated in full (shapes against the configuration);
  // a GGUF of another family is re-quantized tensor by tensor, by name.
  P.cfg = model::has_known_architecture(*src) ? model::validated_config(*src)
          : hf                                ? *model::hf_config(*src)
                                              : model::config_from_gguf(*model::gguf_header(*src));
  const model::ModelConfig& cfg = P.cfg;

  res.layers_processed = cfg.num_layers;
  std::vector<io::GgufKv>& kvs = P.kvs;
  if (hf) {
    std::string name =
        opts.model_name.empty() ? fs::absolute(opts.input).lexically_normal().filename().string() : opts.model_name;
    if (name.empty()) name = fs::absolute(opts.input).lexically_normal().parent_path().filename().string();
    kvs = model::build_gguf_metadata(cfg, ft->ftype, name, eval::hf_tokenizer_kvs(opts.input, cfg));
  } else {
    kvs = requantize_metadata(*model::gguf_header(*src), ft->ftype);
  }
  for (const auto& kv : opts.metadata_overrides) set_kv(kvs, kv);
  if (imatrix) append_imatrix_metadata(kvs, *opts.imatrix, *imatrix);

  gguf::MixtureModel mixture = mixture_model(*src, cfg);
  const LayerPruning pruning = layer_pruning(opts, mixture.n_layer, dynamic);
  pruning.apply_to(kvs, mixture.arch);
  // The mixture rules keep counting the unpruned model's layers (llama-quantize's n_layer_all).
  res.layers_processed -= pruning.count();
  std::vector<const model::SourceTensor*> all = llama_tensor_order(*src);
  if (opts.keep_split)  // shard by shard, each in its own order
    std::stable_sort(all.begin(), all.end(),
                     [](const auto* a, const auto* b) { return a->shard != b->shard ? a->shard < b->shard : a < b; });
  std::vector<const model::SourceTensor*> order;
  std::vector<std::string> names;  // in the output
  for (const auto* t : all)
    if (auto name = pruning.rename(t->name)) {
      order.push_back(t);
      names.push_back(std::move(*name));
    }
  gguf::MixtureOptions mo;
  mo.pure = opts.pure;
  mo.quantize_output = !opts.leave_output_tensor;
  mo.has_imatrix = imatrix.has_value();
  mo.output_tensor_type = opts.output_tensor_type;
  mo.token_embedding_type = opts.token_embedding_type;
  mo.tensor_types = opts.tensor_types;
  gguf::MixturePlanner planner(*ft, mixture, mo, names);

  std::vector<DType> types;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto* t = order[i];
    DType type = planner.next(names[i], t->shape, stored_type(*t, hf));
    // An HF checkpoint converted to a float type is what the converter writes:
    // its F32-only tensors (routers, norms) stay F32 unless a rule names them.
    if (hf && type == ft->base && !traits(type).is_quantized && converter_keeps_f32(*t)) type = DType::F32;
    types.push_back(type);
  }
  P.pool = std::make_unique<ThreadPool>(opts.threads);
  ThreadPool& pool = *P.pool;
  const Protection protection =
      opts.super_weights ? load_protection(opts, *src, imatrix ? &*imatrix : nullptr, dynamic) : Protection{};
  const auto& [protected_tensors, mask] = protection;
  std::set<std::string> pinned;
  if (opts.profile) pinned = apply_profile(*opts.profile, order, types, cfg.num_layers, !dyn_opts, mo.quantize_output);
  DynamicPlan dyn;
  if (dyn_opts) {
    dyn = plan_dynamic(*src, order, types, kvs, res.target_bytes, imatrix ? &*imatrix : nullptr, *dyn_opts, pinned,
                       protected_tensors, opts.protection_min_bits, pool, progress);
    for (size_t i = 0; i < order.size(); ++i)
      if (auto it = dyn.types.find(order[i]->name); it != dyn.types.end()) types[i] = it->second;
  }

  const bool converter_output = hf && !traits(ft->base).is_quantized;
  std::vector<TensorPlan>& plans = P.plans;
  auto& specs = P.specs;
  bool warned_lossy = false;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto* t = order[i];
    DType out = types[i];
    if (t->dtype != out) {
      if (!gguf::can_dequantize(t->dtype))
        throw Error(ErrorCode::UnsupportedConversion, "tensor '" + t->name + "' is stored as " +
                                                          std::string(traits(t->dtype).name) +
                                                          ", which cannot be decoded yet");
      if (!gguf::can_quantize(out))
        throw Error(ErrorCode::UnsupportedConversion,
                    "quantizing to " + std::string(traits(out).name) + " is not implemented yet",
                    "Pick another llama-quantize type");
      // Decoding to F32/F16/BF16 loses nothing; only quantizing again compounds the loss.
      if (!is_float_type(t->dtype) && !hf && traits(out).is_quantized) {
        if (!opts.allow_requantize)
          throw Error(
              ErrorCode::InvalidArgument,
              "tensor '" + t->name + "' is already quantized (" + std::string(traits(t->dtype).name) + ")",
              "Set `allow_requantize` to quantize it again (quality will suffer), or start from an F32/F16 model");
        if (!warned_lossy) log_warning("input is already quantized; requantizing compounds the loss");
        warned_lossy = true;
      }
    }
    TensorPlan p{t, out, {}, {}, 1.0f};
    if (imatrix && t->dtype != out && traits(out).is_quantized) p.importance = importance_for(*imatrix, *t);
    if (t->dtype != out && p.importance.empty() && needs_importance(out, t->name, ft->ftype) &&
        in_prediction_block(*t, cfg)) {
      // No calibration pass runs a multi-token-prediction block, so none of its tensors has importance
      // data; llama-quantize stops here. The roadmap's MTP policy keeps the block conservative instead.
      const DType kept = gguf::type_for_rows(DType::Q8_0, t->shape.row_length());
      log_warning("'" + t->name + "' (multi-token-prediction block) has no importance data; kept at " +
                  std::string(traits(kept).name) + " instead of " + std::string(traits(out).name));
      out = p.out = types[i] = kept;
    } else if (t->dtype != out && p.importance.empty() && needs_importance(out, t->name, ft->ftype)) {
      const std::string what = "tensor '" + t->name + "' would be " + std::string(traits(out).name);
      if (planning_only) {  // one note for the first such tensor
        res.needs_importance = true;
        if (std::none_of(res.notes.begin(), res.notes.end(), [](auto& n) { return n.rfind("importance", 0) == 0; }))
          res.notes.push_back("importance data needed to run: " + what +
                              (imatrix ? ", and the imatrix has no entry for it" : ""));
      } else if (!imatrix) {
        throw Error(ErrorCode::ImatrixInvalid, std::string(ft->name) + " needs an importance matrix (" + what + ")",
                    "Compute one with `analyze` and pass it as the `imatrix`");
      } else {
        throw Error(
            ErrorCode::ImatrixInvalid,
            "no importance data for tensor '" + t->name + "', which " + std::string(traits(out).name) + " needs",
            "Use an imatrix computed on this model (`analyze`)");
      }
    }
    int64_t boosted = 0;
    if (auto m = mask.indices.find(t->name); m != mask.indices.end() && traits(out).is_quantized && t->dtype != out) {
      const int64_t cols = t->shape.row_length();
      for (int64_t flat : m->second) {
        auto& row = p.boosted[flat / cols];
        if (std::find(row.begin(), row.end(), flat % cols) == row.end()) row.push_back(flat % cols), ++boosted;
      }
      p.boost = opts.protection_boost;
      res.protected_weights += boosted;
    }
    // Written as llama-quantize writes it ([1, n] as [n]), unless the job is the converter's float conversion.
    specs.push_back({names[i], {out, converter_output ? t->shape : t->shape.ggml_stored()}});
    const auto err = dyn.estimated_error.find(t->name);
    res.tensors.push_back({names[i], out, t->shape, err == dyn.estimated_error.end() ? -1.0 : err->second,
                           pinned.count(t->name) > 0, protected_tensors.count(t->name) > 0, boosted});
    plans.push_back(std::move(p));
  }
  res.fallbacks = planner.fallbacks();
  res.original_size = src->total_bytes();
  res.original_dtype = dominant_dtype(*src);
  res.parameter_count = src->parameter_count();
  return P;
}

// --gptq: the decoder linears that get a quantized type are swept with their
// codec; their plans then write the sweep's data.
void run_gptq(Prepared& P, const GgufGptqOptions& o, unsigned threads, ProgressSink& progress) {
  std::vector<GgufGptqTarget> targets;
  for (const TensorPlan& p : P.plans)
    if (gptq_sweeps(p.src->name) && traits(p.out).is_quantized && p.src->dtype != p.out && !p.per_expert_importance())
      targets.push_back({p.src, p.out, &p.importance});
  check(!targets.empty(), ErrorCode::InvalidArgument, "GPTQ error feedback found no decoder linear to quantize",
        "Use a quantized file type (Q4_K_M, IQ2_M, ...)");
  P.gptq = gguf_gptq(*P.src, P.cfg, targets, o, threads, *P.pool, progress);
  for (TensorPlan& p : P.plans)
    if (auto it = P.gptq.encoded.find(p.src->name); it != P.gptq.encoded.end()) p.encoded = &it->second;
  P.res.gptq_tensors = static_cast<int64_t>(P.gptq.encoded.size());
  P.res.gptq_improved = P.res.gptq_tensors - P.gptq.kept_codec;
  auto ratios = P.gptq.error_ratios;
  std::nth_element(ratios.begin(), ratios.begin() + static_cast<std::ptrdiff_t>(ratios.size() / 2), ratios.end());
  P.res.gptq_error_ratio = ratios[ratios.size() / 2];
  P.res.calibration_tokens = P.gptq.calibration_tokens;
  P.res.notes = P.gptq.notes;
}

std::vector<OutputShard> output_shards(const Prepared& P, const fs::path& output) {
  std::vector<uint32_t> shard_of;
  for (const TensorPlan& p : P.plans) shard_of.push_back(p.src->shard);
  return split_output(output, P.kvs, P.specs, shard_of);
}

uint64_t planned_size(const std::vector<io::GgufKv>& kvs, const TensorSpecs& specs) {
  const io::GgufHeader h = planned_gguf_header(kvs, specs);
  uint64_t size = io::serialize_gguf_header(h).size();
  if (!h.tensors.empty()) size += h.tensors.back().offset + h.tensors.back().nbytes();
  return size;
}

// keep_split: every shard written through its own atomic writer, all committed at the end.
void write_shards(Prepared& P, const ConvertToGgufOptions& opts, ProgressSink& progress) {
  check(!opts.resume, ErrorCode::InvalidArgument, "`keep_split` runs record no checkpoints to resume",
        "Start afresh without `resume`");
  std::vector<OutputShard> shards = output_shards(P, opts.output);
  std::vector<fs::path> inputs = input_shards(opts.input, model::gguf_header(*P.src));
  if (opts.imatrix) inputs.push_back(*opts.imatrix);
  for (const auto& s : shards) require_output_apart_from_inputs(s.path, inputs);
  std::vector<std::unique_ptr<io::GgufWriter>> writers;
  writers.reserve(shards.size());
  for (auto& s : shards) writers.push_back(std::make_unique<io::GgufWriter>(s.path, std::move(s.kvs), s.specs));
  TensorStreamer streamer(*P.src, *writers[0], *P.pool, opts.on_data_written);
  progress.begin("Quantizing", P.plans.size(), "tensors");
  size_t done = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    streamer.retarget(*writers[s]);
    for (size_t i : shards[s].plans) {
      streamer.run(P.plans[i]);
      progress.update(++done, P.plans[i].src->name);
    }
  }
  progress.end();
  for (auto& w : writers) w->finish();
  for (const auto& s : shards) P.res.shards.push_back(s.path);
}

}  // namespace

ConvertToGgufResult plan_gguf(const ConvertToGgufOptions& opts) {
  Prepared P = prepare(opts, true);
  if (!opts.keep_split) {
    P.res.file_size = planned_size(P.kvs, P.specs);
  } else {
    for (const auto& s : output_shards(P, opts.output)) {
      P.res.file_size += planned_size(s.kvs, s.specs);
      P.res.shards.push_back(s.path);
    }
  }
  return std::move(P.res);
}

ConvertToGgufResult convert_to_gguf(const ConvertToGgufOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<fs::path> inputs = {opts.input};
  if (opts.imatrix) inputs.push_back(*opts.imatrix);
  if (opts.super_weights) inputs.push_back(*opts.super_weights);
  require_output_apart_from_inputs(opts.output, inputs);
  Prepared P = prepare(opts, false);
  ConvertToGgufResult& res = P.res;
  model::TensorSource* src = P.src.get();
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  if (opts.gptq) run_gptq(P, *opts.gptq, opts.threads, progress);
  if (opts.keep_split) {
    write_shards(P, opts, progress);
    res.output_path = res.shards.front();
    size_t tensors = 0;
    for (const auto& s : res.shards) {
      res.file_size += fs::file_size(s);
      tensors += io::GgufFile(s).header().tensors.size();
    }
    res.output_valid = tensors == res.tensors.size();
    res.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.peak_memory_bytes = peak_rss_bytes();
    return res;
  }
  const auto& plans = P.plans;
  const auto& specs = P.specs;
  ThreadPool& pool = *P.pool;
  std::vector<io::GgufKv> kvs = std::move(P.kvs);

  std::optional<Checkpoint> ckpt;
  std::optional<io::GgufResume> resume;
  if (opts.checkpoint_dir) {
    ckpt.emplace(*opts.checkpoint_dir, "quantize-gguf", job_config(opts, specs));
    std::optional<CheckpointRecord> rec;
    if (opts.resume) rec = ckpt->load_record();
    if (opts.resume && !rec)
      throw Error(ErrorCode::CheckpointError, "no checkpoint of this job in '" + opts.checkpoint_dir->string() + "'",
                  "Start afresh without `resume` (inputs and options must match the interrupted run)");
    if (rec && rec->done > 0 && !rec->crc32)
      throw Error(ErrorCode::CheckpointError, "the checkpoint record carries no checksum of its partial output",
                  "Delete the checkpoint directory and start again");
    const uint64_t done = rec ? rec->done : 0;
    resume =
        io::GgufResume{ckpt->partial_path(".gguf.part"), static_cast<size_t>(done), rec ? rec->crc32 : std::nullopt};
    res.tensors_resumed = resume->tensors_done;
    if (rec) log_info("resuming after " + std::to_string(done) + " of " + std::to_string(plans.size()) + " tensors");
  }

  io::GgufWriter writer(opts.output, std::move(kvs), specs, io::kGgufDefaultAlignment, resume);
  if (ckpt && res.tensors_resumed == 0) ckpt->save(0);
  TensorStreamer streamer(*src, writer, pool, opts.on_data_written);
  progress.begin("Quantizing", plans.size(), "tensors");
  for (size_t i = 0; i < plans.size(); ++i) {
    if (i < res.tensors_resumed) continue;
    streamer.run(plans[i]);
    if (ckpt) {
      writer.sync();
      ckpt->save(CheckpointRecord{i + 1, writer.crc32(), writer.bytes_written()});
    }
    progress.update(i + 1, plans[i].src->name);
  }
  progress.end();
  writer.finish();
  if (ckpt) ckpt->clear();

  res.output_path = opts.output;
  res.output_valid = io::GgufFile(opts.output).header().tensors.size() == res.tensors.size();
  res.file_size = fs::file_size(opts.output);
  res.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_memory_bytes = peak_rss_bytes();
  return res;
}

}  // namespace libquant::jobs
