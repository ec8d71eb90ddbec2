#include "libquant/model/tensor_source.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/half.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/io/gptq_awq_config.hpp"
#include "libquant/io/safetensors.hpp"
#include "libquant/model/littlebit_source.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "expert_stack.hpp"
#include "gguf_tensor_source.hpp"
#include "gptq_awq_weight.hpp"
#include "packed_weight.hpp"
#include "ssm_layout.hpp"

namespace libquant::model {
namespace fs = std::filesystem;

const SourceTensor* TensorSource::find(std::string_view gguf_name) const noexcept {
  const auto& all = tensors();
  try {
    std::call_once(index_once_, [&] {
      index_.reserve(all.size());
      for (size_t i = 0; i < all.size(); ++i) index_.emplace(all[i].name, i);
    });
  } catch (...) {  // out of memory for the index: search linearly
    for (const auto& t : all)
      if (t.name == gguf_name) return &t;
    return nullptr;
  }
  const auto it = index_.find(gguf_name);
  return it == index_.end() ? nullptr : &all[it->second];
}

uint64_t TensorSource::total_bytes() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tensors()) n += t.nbytes;
  return n;
}

uint64_t TensorSource::parameter_count() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tensors()) n += t.shape.numel();
  return n;
}

Tensor TensorSource::read_raw(const SourceTensor& t) const {
  Tensor out(t.dtype, t.shape);
  if (out.nbytes()) read_rows(t, 0, t.shape.rank() <= 1 ? 1 : t.shape.rows(), out.data());
  return out;
}

namespace {
// The scale tensor of an int8 compressed-tensors weight ("x.weight" -> "x.weight_scale").
std::string weight_scale_name(std::string_view weight) {
  constexpr std::string_view kSuffix = ".weight";
  if (weight.size() <= kSuffix.size() || weight.substr(weight.size() - kSuffix.size()) != kSuffix) return {};
  return std::string(weight) + "_scale";
}
}  // namespace

Tensor TensorSource::read_f32(const SourceTensor& t) const {
  if (t.dtype == DType::I8)
    if (const SourceTensor* sc = find(weight_scale_name(t.name))) return read_int8_dequantized(t, *sc);
  if (!gguf::can_dequantize(t.dtype))
    throw Error(
        ErrorCode::UnsupportedConversion,
        "tensor '" + t.name + "' has type " + std::string(traits(t.dtype).name) + ", which cannot be decoded yet");
  Tensor raw = read_raw(t);
  if (t.dtype != DType::F32) {
    Tensor out(DType::F32, t.shape);
    gguf::dequantize(t.dtype, raw.data(), out.data_as<float>(), static_cast<int64_t>(t.shape.numel()));
    raw = std::move(out);
  }
  require_finite("tensor '" + t.name + "'", raw.data_as<float>(), t.shape.numel());
  return raw;
}

Tensor TensorSource::read_int8_dequantized(const SourceTensor& t, const SourceTensor& scale) const {
  const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
  const uint64_t n = scale.shape.numel();
  if (n != 1 && n != rows)
    throw Error(ErrorCode::UnsupportedConversion,
                "tensor '" + t.name + "' has " + std::to_string(n) + " scales for " + std::to_string(rows) + " rows",
                "Only per-tensor and per-channel int8 weights can be decoded");
  const Tensor q = read_raw(t);
  const Tensor s = read_f32(scale);
  Tensor out(DType::F32, t.shape);
  const uint64_t cols = rows ? t.shape.numel() / rows : 0;
  const auto* qv = q.data_as<int8_t>();
  const float* sv = s.data_as<float>();
  float* o = out.data_as<float>();
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) o[r * cols + c] = static_cast<float>(qv[r * cols + c]) * sv[n == 1 ? 0 : r];
  require_finite("tensor '" + t.name + "'", o, t.shape.numel());
  return out;
}

// What an HF value becomes in GGUF: itself, 1 + w (Gemma's norms) or -exp(x) (Mamba-2's A_log).
enum class ValueMap : uint8_t { None, PlusOne, NegExp };

class HfTensorSource final : public TensorSource {
 public:
  explicit HfTensorSource(const fs::path& dir) : dir_(dir), config_(load_hf_config(dir / "config.json")), ckpt_(dir) {
    const ArchitectureInfo* arch = config_.arch();
    const PackedModules packed = packed_weight_modules();
    std::map<std::string, std::vector<std::pair<int64_t, Located>>> expert_parts;  // by stacked GGUF name
    if (arch->gated_delta_net && config_.nextn_layers == 0) config_.nextn_layers = mtp_blocks_in(ckpt_);
    for (const auto& loc : ckpt_.tensors()) {
      const auto& e = *loc.entry;
      if (is_ignored_hf_tensor(e.name)) continue;
      // Qwen3.5's MTP block, as layer names (for the expert stacks below too).
      const std::optional<std::string> mtp = hf_mtp_layer_name(e.name, config_.num_layers);
      check(!mtp || config_.nextn_layers > 0, ErrorCode::ValidationFailed,
            "invalid model: '" + e.name +
                "' is a multi-token-prediction tensor but config.json declares no "
                "mtp_num_hidden_layers");
      const std::string& layer_name = mtp ? *mtp : e.name;
      if (auto expert = hf_expert_tensor(layer_name)) {
        expert_parts[expert->gguf_name].emplace_back(expert->expert, loc);
        continue;
      }
      const bool part = packed.gptq_awq ? GptqAwqWeight::is_part(e.name) : PackedWeight::is_part(e.name);
      if (part && packed.modules.count(e.name.substr(0, e.name.rfind('.')))) {
        if (e.name.ends_with(packed.gptq_awq ? ".qweight" : ".weight_packed"))
          add_packed(e.name.substr(0, e.name.rfind('.')), packed, arch);
        continue;
      }
      if (layer_name.ends_with(".linear_attn.in_proj_qkvz.weight") && arch->grouped_value_heads) {
        add_qkvz_parts(layer_name, e, loc);
        continue;
      }
      auto gguf_name = hf_to_gguf_name(layer_name, arch);
      if (!gguf_name)
        throw Error(ErrorCode::UnsupportedConversion, "cannot map tensor '" + e.name + "' to a GGUF name",
                    "The checkpoint has tensors this architecture table does not know");
      // Gemma norms: HF holds w, GGUF (and the forward pass) 1 + w; Mamba-2's
      // ssm_a holds -exp(A_log); both in f32 as llama.cpp's converter writes them.
      const bool recurrent = arch->ssm || arch->gated_delta_net;
      const ValueMap map =
          arch->unit_offset_norms && gguf_name->ends_with("norm.weight") && !gguf_name->ends_with(".ssm_norm.weight")
              ? ValueMap::PlusOne
          : recurrent && gguf_name->ends_with(".ssm_a") ? ValueMap::NegExp
                                                        : ValueMap::None;
      check(map == ValueMap::None || e.dtype == DType::F32 || e.dtype == DType::F16 || e.dtype == DType::BF16,
            ErrorCode::ValidationFailed, "tensor '" + e.name + "' is not a float tensor");
      const Shape shape = recurrent ? ssm_gguf_shape(*gguf_name, e.shape, config_, *arch) : e.shape;
      add({*gguf_name, e.name, map != ValueMap::None ? DType::F32 : e.dtype, shape,
           map != ValueMap::None ? e.shape.numel() * 4 : e.end - e.begin},
          loc, map, -1, -1, head_order(*gguf_name, shape, config_, *arch));
      check(head_order_.back().axis == HeadOrder::Axis::None || head_order_.back().axis == HeadOrder::Axis::Rows ||
                e.dtype == DType::F32 || e.dtype == DType::F16 || e.dtype == DType::BF16,
            ErrorCode::UnsupportedConversion,
            "tensor '" + e.name + "' is not a float tensor; its heads cannot be reordered");
    }
    // Mixture of experts: GGUF's stacked [experts, rows, cols] tensors over the per-expert weights.
    for (auto& [name, parts] : expert_parts) {
      check(config_.is_moe(), ErrorCode::ValidationFailed,
            "invalid model: '" + parts.front().second.entry->name +
                "' is an expert's weight but config.json declares no experts");
      stacks_.push_back(std::make_unique<ExpertStack>(name, std::move(parts), config_.num_experts));
      const ExpertStack& st = *stacks_.back();
      add({name, st.source_pattern(), st.dtype(), st.shape(), st.nbytes()}, {nullptr, nullptr}, ValueMap::None, -1,
          static_cast<int>(stacks_.size() - 1));
    }
    // RoPE frequency factors live in the config (Llama 3.1 scaling, Phi-3's
    // LongRoPE); GGUF carries them as tensors.
    synthesized_ = {{"rope_freqs.weight", llama3_rope_factors(config_)},
                    {"rope_factors_long.weight", config_.rope_long_factors},
                    {"rope_factors_short.weight", config_.rope_short_factors}};
    for (const auto& [name, values] : synthesized_) {
      if (values.empty()) continue;
      const auto n = static_cast<int64_t>(values.size());
      add({name, "", DType::F32, Shape({n}), static_cast<uint64_t>(n) * 4}, {nullptr, nullptr}, ValueMap::None);
    }
  }

  SourceKind kind() const noexcept override { return SourceKind::HfDirectory; }
  const fs::path& path() const noexcept override { return dir_; }
  const std::vector<SourceTensor>& tensors() const noexcept override { return tensors_; }
  const ModelConfig& config() const noexcept { return config_; }

  void read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const override {
    const auto& loc = located_.at(index_of(t));
    if (packed_of_[index_of(t)] >= 0) return read_packed(t, row0, n_rows, dst);
    if (const int s = stack_of_[index_of(t)]; s >= 0)
      return stacks_[static_cast<size_t>(s)]->read_rows(row0, n_rows, dst);
    if (!loc.file) {  // synthesized from the config (RoPE factors)
      check(row0 == 0 && n_rows == 1, ErrorCode::InvalidArgument, "row range outside tensor '" + t.name + "'");
      for (const auto& [name, values] : synthesized_)
        if (name == t.name) std::memcpy(dst, values.data(), values.size() * sizeof(float));
      return;
    }
    const uint64_t total = t.nbytes;
    const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
    check(row0 + n_rows <= rows, ErrorCode::InvalidArgument, "row range outside tensor '" + t.name + "'");
    if (head_order_[index_of(t)].axis != HeadOrder::Axis::None) return read_reordered(t, row0, n_rows, dst);
    if (value_map_[index_of(t)] != ValueMap::None) return read_mapped(*loc.entry, t, row0, n_rows, dst);
    const uint64_t rb = rows ? total / rows : 0;
    // (A single per-tensor quantization scale has nothing to permute.)
    const QkPermute kind =
        config_.arch()->permute_qk && t.shape.numel() > 1 ? qk_permute_kind(t.name) : QkPermute::None;
    if (kind == QkPermute::None) {
      loc.file->read(*loc.entry, row0 * rb, {dst, n_rows * rb});
      return;
    }
    // Permuted rows: a 2-D weight permutes its rows, a 1-D bias its elements.
    const int64_t perm_rows = t.shape.rank() <= 1 ? t.shape[0] : static_cast<int64_t>(rows);
    const uint64_t prb = total / static_cast<uint64_t>(perm_rows);
    const uint64_t first = t.shape.rank() <= 1 ? 0 : row0;
    const uint64_t count = t.shape.rank() <= 1 ? static_cast<uint64_t>(perm_rows) : n_rows;
    const RowPermutation perm = row_permutation(t, kind, perm_rows);
    for (uint64_t i = 0; i < count; ++i) {
      const int64_t s = perm.source(static_cast<int64_t>(first + i));
      loc.file->read(*loc.entry, static_cast<uint64_t>(s) * prb, {dst + i * prb, prb});
    }
  }

  void release(const SourceTensor& t) const noexcept override {
    const auto& loc = located_[index_of(t)];
    if (loc.file) loc.file->release(*loc.entry);
    if (const int s = stack_of_[index_of(t)]; s >= 0) stacks_[static_cast<size_t>(s)]->release();
  }

 private:
  using Located = io::SafetensorsCheckpoint::Located;
  void add(SourceTensor t, Located loc, ValueMap map, int packed = -1, int stack = -1, HeadOrder order = {}) {
    tensors_.push_back(std::move(t));
    located_.push_back(loc);
    value_map_.push_back(map);
    head_order_.push_back(order);
    packed_of_.push_back(packed);
    stack_of_.push_back(stack);
  }

  size_t index_of(const SourceTensor& t) const noexcept { return static_cast<size_t>(&t - tensors_.data()); }

  // Which HF row each GGUF row of a Q/K weight comes from (the inverse of the
  // [2][half] -> [half][2] swap), validated once per read rather than per row.
  struct RowPermutation {
    int64_t per_head = 0, half = 0;  // 0: rows in place
    int64_t source(int64_t d) const noexcept {
      if (per_head == 0) return d;
      const int64_t h = d / per_head, w = d % per_head;
      return h * per_head + (w % 2) * half + w / 2;
    }
  };
  RowPermutation row_permutation(const SourceTensor& t, QkPermute kind, int64_t n_rows) const {
    if (kind == QkPermute::None) return {};
    const int64_t heads = kind == QkPermute::Query ? config_.num_heads : config_.num_kv_heads;
    check(n_rows % (2 * heads) == 0, ErrorCode::ValidationFailed,
          "tensor '" + t.name + "' rows do not split into " + std::to_string(heads) + " heads");
    return {n_rows / heads, n_rows / heads / 2};
  }

  // Modules whose weight is stored packed (compressed-tensors pack-quantized,
  // GPTQ or AWQ), and how to read them.
  struct PackedModules {
    std::set<std::string> modules;
    int bits = 0;                               // compressed-tensors
    std::optional<io::GptqAwqConfig> gptq_awq;  // GPTQ / AWQ
  };
  PackedModules packed_weight_modules() const {
    PackedModules out;
    const std::string method = io::quant_method_of(config_.quantization_config);
    const bool gptq_awq = method == "gptq" || method == "awq";
    const std::string_view suffix = gptq_awq ? ".qweight" : ".weight_packed";
    for (const auto& loc : ckpt_.tensors())
      if (loc.entry->name.ends_with(suffix))
        out.modules.insert(loc.entry->name.substr(0, loc.entry->name.size() - suffix.size()));
    if (out.modules.empty()) return out;
    check(!config_.quantization_config.empty(), ErrorCode::ValidationFailed,
          "the checkpoint holds packed weights but config.json has no quantization_config");
    if (gptq_awq) {
      out.gptq_awq = io::parse_gptq_awq_config(config_.quantization_config);
      return out;
    }
    const io::CompressedTensorsConfig qc = io::parse_compressed_tensors_config(config_.quantization_config);
    check(!qc.groups.empty() && qc.groups.front().weights.has_value(), ErrorCode::ValidationFailed,
          "quantization_config gives no weight scheme for the packed weights");
    out.bits = qc.groups.front().weights->num_bits;
    return out;
  }

  // A packed weight, listed as the f32 tensor it decodes to.
  void add_packed(const std::string& module, const PackedModules& how, const ArchitectureInfo* arch) {
    const std::string hf = module + ".weight";
    check(!arch->gated_delta_net, ErrorCode::UnsupportedConversion,
          "packed quantized weights of " + config_.architecture +
              " are not supported (their heads would need reordering)",
          "Start from the float checkpoint");
    auto gguf_name = hf_to_gguf_name(hf, arch);
    check(gguf_name.has_value(), ErrorCode::UnsupportedConversion, "cannot map tensor '" + hf + "' to a GGUF name");
    if (how.gptq_awq)
      packed_.push_back(std::make_unique<GptqAwqWeight>(ckpt_, module, *how.gptq_awq));
    else
      packed_.push_back(std::make_unique<PackedWeight>(ckpt_, module, how.bits));
    const QuantizedLinearWeight& p = *packed_.back();
    add({*gguf_name, hf, DType::F32, Shape{p.rows(), p.cols()}, static_cast<uint64_t>(p.rows() * p.cols()) * 4},
        {nullptr, nullptr}, ValueMap::None, static_cast<int>(packed_.size() - 1));
  }

  void read_packed(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const {
    const QuantizedLinearWeight& p = *packed_[static_cast<size_t>(packed_of_[index_of(t)])];
    check(row0 + n_rows <= static_cast<uint64_t>(p.rows()), ErrorCode::InvalidArgument,
          "row range outside tensor '" + t.name + "'");
    const QkPermute kind = config_.arch()->permute_qk ? qk_permute_kind(t.name) : QkPermute::None;
    const RowPermutation perm = row_permutation(t, kind, p.rows());
    QuantizedLinearWeight::Buffers buffers;
    for (uint64_t i = 0; i < n_rows; ++i)
      p.decode_row(perm.source(static_cast<int64_t>(row0 + i)),
                   reinterpret_cast<float*>(dst) + i * static_cast<uint64_t>(p.cols()), buffers);
  }

  // Qwen3-Next's in_proj_qkvz as GGUF's attn_qkv and attn_gate: two tensors over one HF entry, each
  // gathering its rows from the per-key-head groups.
  void add_qkvz_parts(const std::string& layer_name, const io::SafetensorsEntry& e, const Located& loc) {
    const std::string p =
        layer_name.substr(0, layer_name.size() - std::string_view("linear_attn.in_proj_qkvz.weight").size());
    const auto layer = parse_layer_prefix(p);
    for (bool z : {false, true}) {
      const auto part = qkvz_part(e.shape, config_, z);
      check(part.has_value(), ErrorCode::ValidationFailed,
            "invalid model: tensor '" + e.name + "' has shape " + e.shape.to_string() +
                ", which does not split into the configured key heads' q, k, v and z rows");
      const uint64_t row_bytes = (e.end - e.begin) / e.shape.rows();
      add({"blk." + layer + (z ? ".attn_gate.weight" : ".attn_qkv.weight"), e.name, e.dtype, part->first,
           row_bytes * part->first.rows()},
          loc, ValueMap::None, -1, -1, part->second);
    }
  }

  // How many multi-token-prediction blocks the checkpoint holds (mtp.layers.N.*), for configs that do not
  // say (Qwen3-Next), as llama.cpp's converter counts them.
  static int64_t mtp_blocks_in(const io::SafetensorsCheckpoint& ckpt) {
    int64_t n = 0;
    for (const auto& loc : ckpt.tensors()) {
      const std::string& name = loc.entry->name;
      if (!name.starts_with("mtp.layers.")) continue;
      int64_t i = -1;
      const auto [p, ec] = std::from_chars(name.data() + 11, name.data() + name.size(), i);
      if (ec == std::errc() && *p == '.' && i >= 0 && i < 64) n = std::max(n, i + 1);
    }
    return n;
  }

  // "model.layers.12." -> "12"
  static std::string parse_layer_prefix(const std::string& p) {
    const auto dot = p.find_last_of('.', p.size() - 2);
    return p.substr(dot + 1, p.size() - dot - 2);
  }

  // Rows [row0, row0 + n_rows) with Qwen3.5's value heads in GGUF's order
  // (HeadOrder): whole rows gathered, or elements / columns permuted after reading.
  void read_reordered(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const {
    const size_t i = index_of(t);
    const HeadOrder& o = head_order_[i];
    const auto& loc = located_[i];
    const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
    check(row0 + n_rows <= rows, ErrorCode::InvalidArgument, "row range outside tensor '" + t.name + "'");
    const uint64_t rb = t.nbytes / rows;
    auto src = [&](uint64_t p) { return static_cast<uint64_t>(o.source(static_cast<int64_t>(p))); };
    if (o.gathers_rows()) {  // one read per run of rows that are consecutive in the HF tensor too
      for (uint64_t r = 0; r < n_rows;) {
        uint64_t run = 1;
        while (r + run < n_rows && src(row0 + r + run) == src(row0 + r) + run) ++run;
        loc.file->read(*loc.entry, src(row0 + r) * rb, {dst + r * rb, run * rb});
        r += run;
      }
      return;
    }
    std::vector<std::byte> in(n_rows * rb);
    if (value_map_[i] != ValueMap::None)
      read_mapped(*loc.entry, t, row0, n_rows, in.data());
    else
      loc.file->read(*loc.entry, row0 * rb, in);
    // Elements or columns move a head (o.dim consecutive values) at a time; values are 4 or 2 bytes.
    const uint64_t per_row = t.shape.numel() / rows, width = rb / per_row, head = static_cast<uint64_t>(o.dim);
    for (uint64_t r = 0; r < n_rows; ++r)
      for (uint64_t e = 0; e < per_row; e += head)
        std::memcpy(dst + r * rb + e * width, in.data() + r * rb + src(e) * width, head * width);
  }

  // The mapped values (1 + w, -exp(x)) in f32 for rows [row0, row0 + n_rows) of a tensor stored as F32, F16 or BF16.
  void read_mapped(const io::SafetensorsEntry& e, const SourceTensor& t, uint64_t row0, uint64_t n_rows,
                   std::byte* dst) const {
    const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
    const uint64_t n = t.shape.numel() / rows * n_rows;
    const size_t width = e.dtype == DType::F32 ? 4 : 2;
    std::vector<std::byte> raw(n * width);
    located_.at(index_of(t)).file->read(e, row0 * (t.shape.numel() / rows) * width, raw);
    std::vector<float> v(n);
    if (e.dtype == DType::F32)
      std::memcpy(v.data(), raw.data(), n * 4);
    else if (e.dtype == DType::F16)
      f16_to_f32(reinterpret_cast<const uint16_t*>(raw.data()), v.data(), n);
    else
      bf16_to_f32(reinterpret_cast<const uint16_t*>(raw.data()), v.data(), n);
    if (value_map_[index_of(t)] == ValueMap::PlusOne)
      for (float& x : v) x += 1.0f;
    else
      for (float& x : v) x = -std::exp(x);
    std::memcpy(dst, v.data(), n * 4);
  }

  fs::path dir_;
  ModelConfig config_;
  io::SafetensorsCheckpoint ckpt_;
  std::vector<SourceTensor> tensors_;
  std::vector<io::SafetensorsCheckpoint::Located> located_;
  std::vector<std::pair<std::string, std::vector<float>>> synthesized_;  // tensors made from the config
  std::vector<ValueMap> value_map_;    // per tensor: how its stored values map to GGUF's
  std::vector<HeadOrder> head_order_;  // per tensor: Qwen3.5's value heads moved to GGUF's order
  std::vector<int> packed_of_;         // per tensor: its packed weight (-1: none)
  std::vector<std::unique_ptr<QuantizedLinearWeight>> packed_;
  std::vector<int> stack_of_;  // per tensor: its expert stack (-1: none)
  std::vector<std::unique_ptr<ExpertStack>> stacks_;
};

std::unique_ptr<TensorSource> open_tensor_source(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(ErrorCode::ModelNotFound, "model '" + path.string() + "' not found",
                "Check the path: a Hugging Face checkpoint directory or a .gguf file");
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(path / "config.json"))
      throw Error(ErrorCode::ModelNotFound, "'" + path.string() + "' has no config.json",
                  "Point to a Hugging Face checkpoint directory (config.json + *.safetensors)");
    return std::make_unique<HfTensorSource>(path);
  }
  if (path.extension() == ".safetensors")
    throw Error(ErrorCode::InvalidArgument, "'" + path.string() + "' is a single safetensors file",
                "Pass the checkpoint directory (with config.json and the tokenizer) instead");
  if (io::is_littlebit_file(path)) return open_littlebit_source(path);
  return std::make_unique<GgufTensorSource>(path);
}

const ModelConfig* hf_config(const TensorSource& s) noexcept {
  const auto* hf = dynamic_cast<const HfTensorSource*>(&s);
  if (!hf && s.wrapped()) return hf_config(*s.wrapped());
  return hf ? &hf->config() : nullptr;
}

const io::GgufHeader* gguf_header(const TensorSource& s) noexcept {
  const auto* g = dynamic_cast<const GgufTensorSource*>(&s);
  if (g) return &g->header();
  if (const io::GgufHeader* m = s.metadata_header()) return m;
  return s.wrapped() ? gguf_header(*s.wrapped()) : nullptr;
}

}  // namespace libquant::model
