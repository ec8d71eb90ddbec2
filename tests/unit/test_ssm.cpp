// Mamba-2: the config keys of transformers and of llama.cpp's GGUF files, the
// HF <-> GGUF names, the tensors the mixture rules never quantize, and a
// forward pass against an independent computation: the scan in its quadratic
// "dual" form from the Mamba-2 paper, y_t = sum_{s<=t} (C_t . B_s)
// exp(A sum_{s<r<=t} dt_r) dt_s x_s + D x_t, in double, with the embedding,
// norms, convolution, gate and projections written out here.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/gguf/mixture.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "libquant/model/tensor_source.hpp"
#include "model/ssm_layout.hpp"
#include "test_helpers.hpp"

using namespace libquant;
using namespace libquant::model;

namespace {
const std::string kMamba2 = R"({"architectures": ["Mamba2ForCausalLM"], "hidden_size": 256, "num_hidden_layers": 2,
  "vocab_size": 512, "expand": 2, "head_dim": 64, "num_heads": 8, "n_groups": 2, "state_size": 16,
  "conv_kernel": 4, "layer_norm_epsilon": 1e-05, "use_bias": false, "tie_word_embeddings": true,
  "time_step_limit": [0.0, {"__float__": "Infinity"}]})";
}  // namespace

TEST_CASE("Mamba-2 config.json gives the mixer's sizes and no attention", "[ssm]") {
  const ModelConfig c = parse_hf_config(kMamba2);
  CHECK(c.is_ssm());
  CHECK(c.ssm_inner_size == 512);
  CHECK(c.ssm_heads == 8);
  CHECK(c.ssm_head_dim() == 64);
  CHECK(c.ssm_groups == 2);
  CHECK(c.ssm_state_size == 16);
  CHECK(c.ssm_conv_kernel == 4);
  CHECK(c.ssm_conv_channels() == 512 + 2 * 2 * 16);
  CHECK(c.ssm_dt_min == 0.0);
  CHECK(c.ssm_dt_max == 0.0);  // infinity: no clamp
  CHECK(c.num_heads == 0);
  CHECK(c.tie_word_embeddings);
  CHECK(c.rms_norm_eps == Approx(1e-5));
  CHECK_FALSE(plain_decoder_block(c));

  auto bad = [](const std::string& json) {
    try {
      parse_hf_config(json);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Success;
  };
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kMamba2;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  CHECK(bad(with(R"("num_heads": 8)", R"("num_heads": 7)")) == ErrorCode::ValidationFailed);
  CHECK(bad(with(R"("head_dim": 64)", R"("head_dim": 60)")) == ErrorCode::ValidationFailed);
  CHECK(bad(with(R"("use_bias": false)", R"("use_bias": true)")) == ErrorCode::UnsupportedConversion);
  const ModelConfig clamped = parse_hf_config(with(R"([0.0, {"__float__": "Infinity"}])", "[0.001, 0.1]"));
  CHECK(clamped.ssm_dt_min == Approx(0.001));
  CHECK(clamped.ssm_dt_max == Approx(0.1));
}

TEST_CASE("Mamba-2 GGUF keys carry the same configuration back", "[ssm]") {
  const ModelConfig c = parse_hf_config(kMamba2);
  const auto kvs = build_gguf_metadata(c, LlamaFileType::AllF32, "m", {});
  io::GgufHeader h;
  for (const auto& kv : kvs) h.kvs.push_back(kv);
  auto key = [&](const std::string& k) {
    const io::GgufValue* v = h.find(k);
    REQUIRE(v != nullptr);
    return v->as_int();
  };
  CHECK(key("mamba2.ssm.inner_size") == 512);
  CHECK(key("mamba2.ssm.time_step_rank") == 8);
  CHECK(key("mamba2.ssm.group_count") == 2);
  CHECK(key("mamba2.attention.head_count") == 0);
  CHECK(key("mamba2.context_length") == (int64_t{1} << 20));
  CHECK(h.find("mamba2.rope.freq_base") == nullptr);
  const ModelConfig back = config_from_gguf(h);
  CHECK(back.architecture == "Mamba2ForCausalLM");
  CHECK(back.ssm_inner_size == c.ssm_inner_size);
  CHECK(back.ssm_heads == c.ssm_heads);
  CHECK(back.ssm_groups == c.ssm_groups);
  CHECK(back.ssm_state_size == c.ssm_state_size);
  CHECK(back.ssm_conv_kernel == c.ssm_conv_kernel);
  CHECK(back.hidden_size == 256);
  CHECK(back.num_layers == 2);
}

TEST_CASE("Mamba-2 tensor names map both ways as llama.cpp names them", "[ssm]") {
  const ArchitectureInfo* arch = find_architecture_by_hf("Mamba2ForCausalLM");
  REQUIRE(arch != nullptr);
  const std::pair<const char*, const char*> names[] = {
      {"backbone.embeddings.weight", "token_embd.weight"},
      {"backbone.norm_f.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"backbone.layers.3.norm.weight", "blk.3.attn_norm.weight"},
      {"backbone.layers.3.mixer.in_proj.weight", "blk.3.ssm_in.weight"},
      {"backbone.layers.3.mixer.conv1d.weight", "blk.3.ssm_conv1d.weight"},
      {"backbone.layers.3.mixer.conv1d.bias", "blk.3.ssm_conv1d.bias"},
      {"backbone.layers.3.mixer.dt_bias", "blk.3.ssm_dt.bias"},
      {"backbone.layers.3.mixer.A_log", "blk.3.ssm_a"},
      {"backbone.layers.3.mixer.D", "blk.3.ssm_d"},
      {"backbone.layers.3.mixer.norm.weight", "blk.3.ssm_norm.weight"},
      {"backbone.layers.3.mixer.out_proj.weight", "blk.3.ssm_out.weight"},
  };
  for (const auto& [hf, gg] : names) {
    CHECK(hf_to_gguf_name(hf, arch) == std::optional<std::string>(gg));
    CHECK(gguf_to_hf_name(gg, arch) == std::optional<std::string>(hf));
  }
  CHECK_FALSE(hf_to_gguf_name("backbone.layers.3.mixer.q_proj.weight", arch).has_value());
  CHECK_FALSE(hf_to_gguf_name("model.layers.3.self_attn.q_proj.weight", arch).has_value());
}

TEST_CASE("the scan's A, D, dt and the convolution are never quantized, under any name", "[ssm]") {
  const Shape m{8, 256};
  CHECK(gguf::is_quantizable("blk.0.ssm_in.weight", m, true));
  CHECK(gguf::is_quantizable("blk.0.ssm_out.weight", m, true));
  CHECK(gguf::is_quantizable("blk.0.ssm_alpha.weight", m, true));  // Qwen3.5's projection: a real linear
  CHECK(gguf::is_quantizable("blk.0.ssm_beta.weight", m, true));
  for (const char* n : {"blk.0.ssm_a", "blk.0.ssm_d", "blk.0.ssm_dt.bias", "blk.0.ssm_dt.weight", "blk.0.ssm_dt",
                        "blk.0.ssm_a.weight", "blk.12.ssm_conv1d.weight", "blk.0.ssm_norm.weight"})
    CHECK_FALSE(gguf::is_quantizable(n, m, true));
}

namespace {
// Random f32 values for a tensor of `n` elements.
std::vector<float> randoms(std::mt19937& rng, size_t n, float scale = 0.5f) {
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

double silu(double v) { return v / (1 + std::exp(-v)); }

// RMSNorm of x (n values) scaled by w, in place, in double.
void rms(double* x, const float* w, int64_t n, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const double scale = 1 / std::sqrt(ss / static_cast<double>(n) + eps);
  for (int64_t i = 0; i < n; ++i) x[i] *= scale * w[i];
}
}  // namespace

TEST_CASE("a Mamba-2 forward pass equals the scan's quadratic dual form", "[ssm]") {
  ModelConfig c = parse_hf_config(kMamba2);
  c.hidden_size = 12, c.num_layers = 1, c.vocab_size = 20, c.ssm_inner_size = 8, c.ssm_heads = 4, c.ssm_groups = 2;
  c.ssm_state_size = 3, c.ssm_conv_kernel = 3, c.tie_word_embeddings = false;
  const int64_t d = 12, di = 8, H = 4, P = 2, G = 2, S = 3, K = 3, C = c.ssm_conv_channels(), W = di + C + H, V = 20;
  std::mt19937 rng(3);
  std::map<std::string, std::pair<Shape, std::vector<float>>> t;
  auto add = [&](const std::string& name, Shape shape, float scale = 0.5f) {
    t[name] = {shape, randoms(rng, shape.numel(), scale)};
  };
  add("token_embd.weight", Shape{V, d}, 1.0f);
  add("output.weight", Shape{V, d});
  add("output_norm.weight", Shape{d});
  add("blk.0.attn_norm.weight", Shape{d});
  add("blk.0.ssm_in.weight", Shape{W, d});
  add("blk.0.ssm_conv1d.weight", Shape{C, K});
  add("blk.0.ssm_conv1d.bias", Shape{C});
  add("blk.0.ssm_dt.bias", Shape{H});
  add("blk.0.ssm_a", Shape{H, 1});
  for (float& a : t["blk.0.ssm_a"].second) a = -std::exp(a);
  add("blk.0.ssm_d", Shape{H, 1});
  add("blk.0.ssm_norm.weight", Shape{G, di / G});
  add("blk.0.ssm_out.weight", Shape{d, di});
  const auto dir = test::scratch_dir("ssm-dual");
  {
    std::vector<std::pair<std::string, std::pair<DType, Shape>>> decl;
    for (const auto& [name, v] : t) decl.push_back({name, {DType::F32, v.first}});
    io::GgufWriter w(dir / "m.gguf", build_gguf_metadata(c, LlamaFileType::AllF32, "m", {}), decl);
    for (const auto& [name, v] : t)
      w.write_tensor({reinterpret_cast<const std::byte*>(v.second.data()), v.second.size() * 4});
    w.finish();
  }
  const std::vector<std::vector<int32_t>> batch = {{1, 7, 3, 19, 0, 4, 4, 11}, {2, 2, 9, 5, 13, 17, 6, 8}};
  const int64_t T = 8;
  auto src = open_tensor_source(dir / "m.gguf");
  eval::ForwardOptions o;
  o.threads = 2;
  eval::Transformer tf(*src, o);
  const std::vector<float> got = tf.forward(batch);
  REQUIRE(got.size() == static_cast<size_t>(2 * T * V));

  auto w = [&](const std::string& name) { return t.at(name).second.data(); };
  const double eps = c.rms_norm_eps;
  for (int64_t s = 0; s < 2; ++s) {
    std::vector<double> h(static_cast<size_t>(T * d)), xn(h.size()), proj(static_cast<size_t>(T * W));
    std::vector<double> xbc(static_cast<size_t>(T * C)), dt(static_cast<size_t>(T * H));
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < d; ++j) h[i * d + j] = w("token_embd.weight")[batch[s][i] * d + j];
    xn = h;
    for (int64_t i = 0; i < T; ++i) rms(xn.data() + i * d, w("blk.0.attn_norm.weight"), d, eps);
    for (int64_t i = 0; i < T; ++i)
      for (int64_t o2 = 0; o2 < W; ++o2) {
        double acc = 0;
        for (int64_t j = 0; j < d; ++j) acc += w("blk.0.ssm_in.weight")[o2 * d + j] * xn[i * d + j];
        proj[i * W + o2] = acc;
      }
    for (int64_t i = 0; i < T; ++i) {
      for (int64_t ch = 0; ch < C; ++ch) {  // causal: tap K-1 sees the current token
        double acc = w("blk.0.ssm_conv1d.bias")[ch];
        for (int64_t k = 0; k < K && k <= i; ++k)
          acc += w("blk.0.ssm_conv1d.weight")[ch * K + K - 1 - k] * proj[(i - k) * W + di + ch];
        xbc[i * C + ch] = silu(acc);
      }
      for (int64_t hh = 0; hh < H; ++hh)
        dt[i * H + hh] = std::log1p(std::exp(proj[i * W + di + C + hh] + w("blk.0.ssm_dt.bias")[hh]));
    }
    for (int64_t i = 0; i < T; ++i) {
      std::vector<double> y(static_cast<size_t>(di));
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t g = hh / (H / G);
        for (int64_t p = 0; p < P; ++p) {
          double acc = w("blk.0.ssm_d")[hh] * xbc[i * C + hh * P + p];
          for (int64_t u = 0; u <= i; ++u) {
            double cb = 0, dtsum = 0;
            for (int64_t n = 0; n < S; ++n) cb += xbc[i * C + di + G * S + g * S + n] * xbc[u * C + di + g * S + n];
            for (int64_t r = u + 1; r <= i; ++r) dtsum += dt[r * H + hh];
            acc += cb * std::exp(w("blk.0.ssm_a")[hh] * dtsum) * dt[u * H + hh] * xbc[u * C + hh * P + p];
          }
          y[hh * P + p] = acc * silu(proj[i * W + hh * P + p]);
        }
      }
      for (int64_t g = 0; g < G; ++g)
        rms(y.data() + g * (di / G), w("blk.0.ssm_norm.weight") + g * (di / G), di / G, eps);
      for (int64_t o2 = 0; o2 < d; ++o2) {
        double acc = 0;
        for (int64_t j = 0; j < di; ++j) acc += w("blk.0.ssm_out.weight")[o2 * di + j] * y[j];
        h[i * d + o2] += acc;
      }
      rms(h.data() + i * d, w("output_norm.weight"), d, eps);
      for (int64_t v = 0; v < V; ++v) {
        double logit = 0;
        for (int64_t j = 0; j < d; ++j) logit += w("output.weight")[v * d + j] * h[i * d + j];
        CHECK(got[static_cast<size_t>((s * T + i) * V + v)] == Approx(logit).margin(1e-4).epsilon(1e-4));
      }
    }
  }
  std::filesystem::remove_all(dir);
}

namespace {
const std::string kQwen35 = R"({"architectures": ["Qwen3_5ForCausalLM"], "hidden_size": 256, "intermediate_size": 512,
  "num_hidden_layers": 8, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 512,
  "linear_conv_kernel_dim": 4, "linear_key_head_dim": 32, "linear_value_head_dim": 32, "linear_num_key_heads": 2,
  "linear_num_value_heads": 6, "full_attention_interval": 4,
  "rope_parameters": {"rope_type": "default", "rope_theta": 10000000.0, "partial_rotary_factor": 0.25,
                      "mrope_section": [3, 3, 2], "mrope_interleaved": true}})";
}  // namespace

TEST_CASE("Qwen3.5 config.json: recurrent layers, DeltaNet sizes, partial rotary", "[ssm]") {
  const ModelConfig c = parse_hf_config(kQwen35);
  CHECK(c.arch()->gated_delta_net);
  CHECK(c.recurrent_layers == std::vector<uint8_t>{1, 1, 1, 0, 1, 1, 1, 0});  // every 4th layer full attention
  CHECK(c.ssm_groups == 2);
  CHECK(c.ssm_heads == 6);
  CHECK(c.ssm_state_size == 32);
  CHECK(c.ssm_head_dim() == 32);
  CHECK(c.ssm_conv_channels() == 2 * 2 * 32 + 6 * 32);
  CHECK(c.rotary_dims() == 16);
  CHECK(c.rope_sections == std::vector<int64_t>{3, 3, 2, 0});
  CHECK(c.rope_theta == Approx(1e7));
  CHECK_FALSE(plain_decoder_block(c));

  std::string listed = kQwen35;
  listed.insert(listed.find(R"("full_attention_interval")"),
                R"("layer_types": ["full_attention", "linear_attention", "linear_attention", "linear_attention",
                   "full_attention", "full_attention", "linear_attention", "full_attention"], )");
  CHECK(parse_hf_config(listed).recurrent_layers == std::vector<uint8_t>{0, 1, 1, 1, 0, 0, 1, 0});

  const auto kvs = build_gguf_metadata(c, LlamaFileType::AllF32, "m", {});
  io::GgufHeader h;
  for (const auto& kv : kvs) h.kvs.push_back(kv);
  const ModelConfig back = config_from_gguf(h);
  CHECK(back.recurrent_layers == c.recurrent_layers);
  CHECK(back.rope_sections == c.rope_sections);
  CHECK(back.ssm_heads == 6);
  CHECK(back.ssm_groups == 2);
  CHECK(back.ssm_inner_size == 192);
  CHECK(back.rotary_dims() == 16);
  CHECK(back.head_dim == 64);
  CHECK(h.find("qwen35.attention.key_length") != nullptr);

  // Without the flags, llama.cpp's rule: every full_attention_interval-th layer is full attention.
  io::GgufHeader no_flags;
  for (const auto& kv : kvs)
    if (kv.key != "qwen35.attention.recurrent_layers" && kv.key != "qwen35.full_attention_interval")
      no_flags.kvs.push_back(kv);
  no_flags.kvs.push_back({"qwen35.full_attention_interval", io::GgufValue::u32(2)});
  CHECK(config_from_gguf(no_flags).recurrent_layers == std::vector<uint8_t>{1, 0, 1, 0, 1, 0, 1, 0});
}

TEST_CASE("Qwen3.5 DeltaNet names map both ways; its FFN norm is post_attention_norm", "[ssm]") {
  const ArchitectureInfo* arch = find_architecture_by_hf("Qwen3_5ForCausalLM");
  REQUIRE(arch != nullptr);
  const std::pair<const char*, const char*> names[] = {
      {"model.layers.2.linear_attn.in_proj_qkv.weight", "blk.2.attn_qkv.weight"},
      {"model.layers.2.linear_attn.in_proj_z.weight", "blk.2.attn_gate.weight"},
      {"model.layers.2.linear_attn.in_proj_b.weight", "blk.2.ssm_beta.weight"},
      {"model.layers.2.linear_attn.in_proj_a.weight", "blk.2.ssm_alpha.weight"},
      {"model.layers.2.linear_attn.conv1d.weight", "blk.2.ssm_conv1d.weight"},
      {"model.layers.2.linear_attn.dt_bias", "blk.2.ssm_dt.bias"},
      {"model.layers.2.linear_attn.A_log", "blk.2.ssm_a"},
      {"model.layers.2.linear_attn.norm.weight", "blk.2.ssm_norm.weight"},
      {"model.layers.2.linear_attn.out_proj.weight", "blk.2.ssm_out.weight"},
      {"model.layers.2.post_attention_layernorm.weight", "blk.2.post_attention_norm.weight"},
      {"model.layers.3.self_attn.q_proj.weight", "blk.3.attn_q.weight"},
      {"model.layers.3.self_attn.q_norm.weight", "blk.3.attn_q_norm.weight"},
      {"model.layers.3.input_layernorm.weight", "blk.3.attn_norm.weight"},
      {"model.embed_tokens.weight", "token_embd.weight"},
  };
  for (const auto& [hf, gg] : names) {
    CHECK(hf_to_gguf_name(hf, arch) == std::optional<std::string>(gg));
    CHECK(gguf_to_hf_name(gg, arch) == std::optional<std::string>(hf));
  }
}

TEST_CASE("Qwen3.5's value heads move from grouped to tiled order", "[ssm]") {
  ModelConfig c = parse_hf_config(kQwen35);  // 2 key heads, 6 value heads of 32
  const ArchitectureInfo& arch = *c.arch();
  // HF groups value heads by key head: [k0: a b c, k1: d e f]; GGUF tiles them: [a d, b e, c f].
  const std::vector<int64_t> hf_head_of_gguf_head = {0, 3, 1, 4, 2, 5};
  const HeadOrder rows = head_order("blk.0.attn_gate.weight", Shape{192, 256}, c, arch);
  REQUIRE(rows.axis == HeadOrder::Axis::Rows);
  for (int64_t h = 0; h < 6; ++h)
    for (int64_t d : {0, 17, 31})
      CHECK(rows.source(h * 32 + d) == hf_head_of_gguf_head[static_cast<size_t>(h)] * 32 + d);
  const HeadOrder qkv = head_order("blk.0.attn_qkv.weight", Shape{128 + 192, 256}, c, arch);
  CHECK(qkv.source(5) == 5);  // queries and keys stay
  CHECK(qkv.source(127) == 127);
  CHECK(qkv.source(128 + 32) == 128 + 3 * 32);  // the second GGUF value head is HF's fourth
  const HeadOrder vec = head_order("blk.0.ssm_a", Shape{6}, c, arch);
  REQUIRE(vec.axis == HeadOrder::Axis::Elements);
  for (int64_t h = 0; h < 6; ++h) CHECK(vec.source(h) == hf_head_of_gguf_head[static_cast<size_t>(h)]);
  CHECK(head_order("blk.0.ssm_out.weight", Shape{256, 192}, c, arch).axis == HeadOrder::Axis::Columns);
  CHECK(head_order("blk.0.ssm_out.weight", Shape{256, 190}, c, arch).axis == HeadOrder::Axis::None);  // not whole heads
  CHECK(head_order("blk.3.attn_q.weight", Shape{512, 256}, c, arch).axis == HeadOrder::Axis::None);
  c.ssm_heads = 2;  // as many value heads as key heads: nothing moves
  CHECK(head_order("blk.0.attn_gate.weight", Shape{64, 256}, c, arch).axis == HeadOrder::Axis::None);
}

TEST_CASE("Qwen3-Next's in_proj_qkvz splits into attn_qkv and attn_gate rows", "[ssm]") {
  ModelConfig c;
  c.ssm_groups = 2, c.ssm_state_size = 2, c.ssm_heads = 6, c.ssm_inner_size = 6;  // per key head: q2 k2 v3 z3
  // HF rows: key head 0 holds rows 0..9 = q 0-1, k 2-3, v 4-6, z 7-9; key head 1 rows 10..19 likewise.
  const auto qkv = qkvz_part(Shape{20, 16}, c, false);
  REQUIRE(qkv.has_value());
  CHECK(qkv->first == Shape{14, 16});
  const std::vector<int64_t> qkv_rows = {0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 6, 14, 15, 16};
  for (int64_t i = 0; i < 14; ++i) CHECK(qkv->second.source(i) == qkv_rows[static_cast<size_t>(i)]);
  const auto z = qkvz_part(Shape{20, 16}, c, true);
  REQUIRE(z.has_value());
  CHECK(z->first == Shape{6, 16});
  const std::vector<int64_t> z_rows = {7, 8, 9, 17, 18, 19};
  for (int64_t i = 0; i < 6; ++i) CHECK(z->second.source(i) == z_rows[static_cast<size_t>(i)]);
  CHECK_FALSE(qkvz_part(Shape{21, 16}, c, false).has_value());  // not whole groups
}
