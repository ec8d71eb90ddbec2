#pragma once
// A small Llama-style GGUF built from fuzz input, for the targets that go past
// the parser (fuzz_forward, fuzz_quantize_tensor), sometimes a mixture of
// experts (stacked expert tensors, a router, Qwen2-MoE's shared expert), a
// Mamba-2 state-space model (ssm_* tensors and keys, no attention) or a Qwen3.5 /
// Qwen3-Next hybrid (gated-DeltaNet and gated-attention layers, recurrent-layer flags):
// hyper-parameters and tensor shapes that mostly agree, then a few lies
// chosen by the input (a metadata
// value off, a dimension changed, swapped or dropped, a tensor missing, a
// NaN/Inf weight, another architecture name). Inputs that start with "GGUF"
// are written verbatim instead, so raw mutations reach the same code.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"

namespace fuzz {

using libquant::DType;
using libquant::Shape;
using libquant::io::GgufKv;
using libquant::io::GgufValue;

inline std::filesystem::path scratch_path(const char* tag) {
  return std::filesystem::temp_directory_path() /
         ("libquant-fuzz-" + std::string(tag) + "-" + std::to_string(::getpid()) + ".gguf");
}

struct Spec {
  std::string name;
  Shape shape;
  DType type = DType::F32;
};

inline void write_raw(const std::filesystem::path& p, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) return;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
}

// Returns false when nothing was written (the writer refused the specs).
inline bool write_fuzzed_model(const uint8_t* data, size_t size, const std::filesystem::path& path) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) {
    write_raw(path, data, size);
    return true;
  }
  FuzzedDataProvider in(data, size);
  const int64_t d = in.ConsumeIntegralInRange<int64_t>(1, 24), nh = in.ConsumeIntegralInRange<int64_t>(1, 4);
  const int64_t nkv = in.ConsumeIntegralInRange<int64_t>(1, nh), hd = 2 * in.ConsumeIntegralInRange<int64_t>(1, 8);
  const int64_t ff = in.ConsumeIntegralInRange<int64_t>(1, 40), layers = in.ConsumeIntegralInRange<int64_t>(1, 2);
  const int64_t vocab = in.ConsumeIntegralInRange<int64_t>(2, 40);
  std::string arch = in.ConsumeBool() && in.ConsumeBool() ? "qwen2" : in.ConsumeBool() ? "llama" : "gptx";
  // A mixture of experts: experts, how many a token uses (sometimes more than exist), their width.
  const bool moe = in.ConsumeProbability<float>() < 0.3f;
  const int64_t n_exp = in.ConsumeIntegralInRange<int64_t>(1, 4), used = in.ConsumeIntegralInRange<int64_t>(0, 5);
  const int64_t eff = in.ConsumeIntegralInRange<int64_t>(1, 24), shared_ff = in.ConsumeIntegralInRange<int64_t>(0, 16);
  if (moe && arch == "qwen2") arch = "qwen2moe";
  // Mamba-2: heads of hp channels in groups, a state of ns, a convolution of taps.
  const bool ssm = !moe && in.ConsumeProbability<float>() < 0.25f;
  const int64_t sh = in.ConsumeIntegralInRange<int64_t>(1, 4), hp = in.ConsumeIntegralInRange<int64_t>(1, 8);
  const int64_t sg = in.ConsumeIntegralInRange<int64_t>(1, 2), ns = in.ConsumeIntegralInRange<int64_t>(1, 8);
  const int64_t taps = in.ConsumeIntegralInRange<int64_t>(1, 4), di = sh * hp, conv = di + 2 * sg * ns;
  if (ssm) arch = "mamba2";
  // Qwen3.5: gated-DeltaNet layers (sg key heads, sh value heads of hp) and gated attention layers.
  const bool hybrid = !moe && !ssm && in.ConsumeProbability<float>() < 0.25f;
  const uint8_t recurrent_bits = in.ConsumeIntegral<uint8_t>();
  const bool next = in.ConsumeBool();  // Qwen3-Next's layout: one ssm_ba, value heads grouped
  if (hybrid) arch = next ? "qwen3next" : "qwen35";

  std::vector<GgufKv> kvs = {{"general.architecture", GgufValue::str(arch)}};
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  std::vector<std::pair<std::string, int64_t>> meta = {
      {"embedding_length", d},      {"feed_forward_length", ff},      {"block_count", layers},
      {"attention.head_count", nh}, {"attention.head_count_kv", nkv}, {"attention.key_length", hd},
      {"vocab_size", vocab},        {"rope.dimension_count", hd},     {"context_length", 64}};
  for (auto& [key, v] : meta) {
    if (in.ConsumeProbability<float>() < 0.08f)
      v = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(0, 70) : in.ConsumeIntegral<int64_t>();
    if (v >= 0 && v <= std::numeric_limits<uint32_t>::max())
      kvs.push_back({arch + "." + key, u32(v)});
    else
      kvs.push_back({arch + "." + key, GgufValue::i64(v)});
  }
  kvs.push_back({arch + ".attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f)});
  if (ssm)
    for (auto [key, v] : std::vector<std::pair<const char*, int64_t>>{{"ssm.conv_kernel", taps},
                                                                      {"ssm.inner_size", di},
                                                                      {"ssm.state_size", ns},
                                                                      {"ssm.time_step_rank", sh},
                                                                      {"ssm.group_count", sg}})
      kvs.push_back({arch + "." + key,
                     u32(in.ConsumeProbability<float>() < 0.08f ? in.ConsumeIntegralInRange<int64_t>(0, 9) : v)});
  if (hybrid) {
    for (auto [key, v] : std::vector<std::pair<const char*, int64_t>>{{"ssm.conv_kernel", taps},
                                                                      {"ssm.inner_size", sh * hp},
                                                                      {"ssm.state_size", hp},
                                                                      {"ssm.time_step_rank", sh},
                                                                      {"ssm.group_count", sg},
                                                                      {"full_attention_interval", 2}})
      kvs.push_back({arch + "." + key,
                     u32(in.ConsumeProbability<float>() < 0.08f ? in.ConsumeIntegralInRange<int64_t>(0, 9) : v)});
    std::vector<libquant::io::GgufScalar> flags;
    for (int64_t l = 0; l < layers + (in.ConsumeProbability<float>() < 0.1f ? 1 : 0); ++l)
      flags.emplace_back(((recurrent_bits >> l) & 1) != 0);
    if (in.ConsumeBool())
      kvs.push_back({arch + ".attention.recurrent_layers", GgufValue::array(libquant::io::GgufType::Bool, flags)});
  }
  if (moe) {
    for (auto [key, v] : std::vector<std::pair<const char*, int64_t>>{{"expert_count", n_exp},
                                                                      {"expert_used_count", used},
                                                                      {"expert_feed_forward_length", eff},
                                                                      {"expert_shared_feed_forward_length", shared_ff}})
      kvs.push_back({arch + "." + key, u32(v)});
  }

  std::vector<Spec> specs = {{"token_embd.weight", Shape{vocab, d}}, {"output_norm.weight", Shape{d}}};
  if (in.ConsumeBool()) specs.push_back({"output.weight", Shape{vocab, d}});
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    if (ssm) {
      for (auto [n, s] : std::vector<std::pair<const char*, Shape>>{{"attn_norm.weight", Shape{d}},
                                                                    {"ssm_in.weight", Shape{di + conv + sh, d}},
                                                                    {"ssm_conv1d.weight", Shape{conv, taps}},
                                                                    {"ssm_conv1d.bias", Shape{conv}},
                                                                    {"ssm_dt.bias", Shape{sh}},
                                                                    {"ssm_a", Shape{sh, 1}},
                                                                    {"ssm_d", Shape{sh, 1}},
                                                                    {"ssm_norm.weight", Shape{sg, di / sg}},
                                                                    {"ssm_out.weight", Shape{d, di}}})
        specs.push_back({p + n, s, in.ConsumeProbability<float>() < 0.2f && s.rank() == 2 ? DType::F16 : DType::F32});
      continue;
    }
    if (hybrid) {
      const int64_t qkv = 2 * sg * hp + sh * hp;
      std::vector<std::pair<const char*, Shape>> t = {{"attn_norm.weight", Shape{d}},
                                                      {"post_attention_norm.weight", Shape{d}},
                                                      {"ffn_gate.weight", Shape{ff, d}},
                                                      {"ffn_up.weight", Shape{ff, d}},
                                                      {"ffn_down.weight", Shape{d, ff}}};
      if ((recurrent_bits >> l) & 1) {
        t.insert(t.end(), {{"attn_qkv.weight", Shape{qkv, d}},
                           {"attn_gate.weight", Shape{sh * hp, d}},
                           {"ssm_conv1d.weight", Shape{qkv, taps}},
                           {"ssm_dt.bias", Shape{sh}},
                           {"ssm_a", Shape{sh}},
                           {"ssm_norm.weight", Shape{hp}},
                           {"ssm_out.weight", Shape{d, sh * hp}}});
        if (next)
          t.push_back({"ssm_ba.weight", Shape{2 * sh, d}});
        else
          t.insert(t.end(), {{"ssm_beta.weight", Shape{sh, d}}, {"ssm_alpha.weight", Shape{sh, d}}});
      } else {
        t.insert(t.end(), {{"attn_q.weight", Shape{2 * nh * hd, d}},
                           {"attn_k.weight", Shape{nkv * hd, d}},
                           {"attn_v.weight", Shape{nkv * hd, d}},
                           {"attn_output.weight", Shape{d, nh * hd}},
                           {"attn_q_norm.weight", Shape{hd}},
                           {"attn_k_norm.weight", Shape{hd}}});
      }
      for (auto [n, s] : t)
        specs.push_back({p + n, s, in.ConsumeProbability<float>() < 0.2f && s.rank() == 2 ? DType::F16 : DType::F32});
      continue;
    }
    for (auto [n, s] : std::vector<std::pair<const char*, Shape>>{{"attn_norm.weight", Shape{d}},
                                                                  {"ffn_norm.weight", Shape{d}},
                                                                  {"attn_q.weight", Shape{nh * hd, d}},
                                                                  {"attn_k.weight", Shape{nkv * hd, d}},
                                                                  {"attn_v.weight", Shape{nkv * hd, d}},
                                                                  {"attn_output.weight", Shape{d, nh * hd}},
                                                                  {"attn_q.bias", Shape{nh * hd}},
                                                                  {"attn_k.bias", Shape{nkv * hd}},
                                                                  {"attn_v.bias", Shape{nkv * hd}}})
      specs.push_back({p + n, s, in.ConsumeProbability<float>() < 0.2f && s.rank() == 2 ? DType::F16 : DType::F32});
    std::vector<std::pair<const char*, Shape>> ffn = {
        {"ffn_gate.weight", Shape{ff, d}}, {"ffn_up.weight", Shape{ff, d}}, {"ffn_down.weight", Shape{d, ff}}};
    if (moe) {
      ffn = {{"ffn_gate_inp.weight", Shape{n_exp, d}},
             {"ffn_gate_exps.weight", Shape{n_exp, eff, d}},
             {"ffn_up_exps.weight", Shape{n_exp, eff, d}},
             {"ffn_down_exps.weight", Shape{n_exp, d, eff}}};
      if (shared_ff > 0)
        for (auto& t : std::vector<std::pair<const char*, Shape>>{{"ffn_gate_shexp.weight", Shape{shared_ff, d}},
                                                                  {"ffn_up_shexp.weight", Shape{shared_ff, d}},
                                                                  {"ffn_down_shexp.weight", Shape{d, shared_ff}},
                                                                  {"ffn_gate_inp_shexp.weight", Shape{d}}})
          ffn.push_back(t);
    }
    for (auto [n, s] : ffn)
      specs.push_back({p + n, s, in.ConsumeProbability<float>() < 0.2f && s.rank() >= 2 ? DType::F16 : DType::F32});
  }
  // Lies about single tensors.
  const int lies = in.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < lies && !specs.empty(); ++i) {
    Spec& s = specs[in.ConsumeIntegralInRange<size_t>(0, specs.size() - 1)];
    std::vector<int64_t> dims = s.shape.dims();
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
        if (!dims.empty()) dims[0] += in.ConsumeBool() ? 1 : -1;
        break;
      case 1:
        std::reverse(dims.begin(), dims.end());
        break;
      case 2:
        if (dims.size() == 2) dims = {dims[0] * dims[1]};
        break;
      case 3:
        dims.insert(dims.begin(), in.ConsumeIntegralInRange<int64_t>(1, 3));
        break;
      case 4:
        specs.erase(specs.begin() + (&s - specs.data()));
        continue;
      default:
        if (!dims.empty()) dims.back() = in.ConsumeIntegralInRange<int64_t>(0, 64);
        break;
    }
    for (auto& x : dims) x = std::max<int64_t>(0, x);
    s.shape = Shape(dims);
  }

  std::vector<std::pair<std::string, std::pair<DType, Shape>>> decl;
  for (const auto& s : specs) decl.push_back({s.name, {s.type, s.shape}});
  try {
    libquant::io::GgufWriter w(path, kvs, decl);
    uint32_t state = in.ConsumeIntegral<uint32_t>() | 1;
    const float poison = in.ConsumeProbability<float>() < 0.1f ? (in.ConsumeBool() ? NAN : INFINITY) : 0.0f;
    for (const auto& s : specs) {
      const uint64_t n = s.shape.numel();
      std::vector<float> v(n);
      for (auto& x : v) {
        state = state * 1664525u + 1013904223u;
        x = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.5f;
      }
      if (poison != 0.0f && n) v[state % n] = poison;
      if (s.type == DType::F16) {
        std::vector<uint16_t> h(n);
        for (size_t i = 0; i < n; ++i) {  // plain truncation to half is enough for fuzzing
          uint32_t b;
          std::memcpy(&b, &v[i], 4);
          h[i] = static_cast<uint16_t>(((b >> 16) & 0x8000) | ((((b >> 23) & 0xff) - 112) << 10 & 0x7c00) |
                                       ((b >> 13) & 0x3ff));
        }
        w.write_tensor({reinterpret_cast<const std::byte*>(h.data()), n * 2});
      } else {
        w.write_tensor({reinterpret_cast<const std::byte*>(v.data()), n * 4});
      }
    }
    w.finish();
  } catch (const libquant::Error&) {
    return false;
  }
  return true;
}

}  // namespace fuzz
