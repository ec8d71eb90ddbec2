#include "libquant/eval/transformer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "../cpu/ggml_exact.hpp"
#include "../cpu/ops.hpp"
#include "hook_site.hpp"
#include "gated_delta_net.hpp"
#include "linear_weight.hpp"
#include "mamba2_mixer.hpp"
#include "moe_feed_forward.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/gptq_awq_config.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/model_validation.hpp"

namespace libquant::eval {

model::ModelConfig forward_config(const model::TensorSource& source) {
  model::ModelConfig cfg = model::validated_config(source);
  model::check_forward_support(source, cfg);
  return cfg;
}

bool exact_numerics_supported(const model::ModelConfig& cfg) noexcept { return model::plain_decoder_block(cfg); }

namespace {

struct LayerWeights {
  Tensor attn_norm, ffn_norm, q_norm, k_norm, bq, bk, bv;
  Tensor post_attn_norm, post_ffn_norm;  // Gemma's norms on the attention and FFN outputs (empty elsewhere)
  LinearWeight wq, wk, wv, wo, wg, wu, wd;
  LinearWeight wqkv;                       // Phi-3's fused Q|K|V (then wq, wk, wv are empty and wu holds gate|up)
  std::unique_ptr<MoeWeights> moe;         // a mixture-of-experts FFN (then wg, wu, wd are empty)
  std::unique_ptr<Mamba2Weights> ssm;      // a Mamba-2 layer: attn_norm and this mixer only
  std::unique_ptr<DeltaNetWeights> delta;  // a Qwen3.5 linear-attention layer (then wq..wo are empty)
};

const float* ptr(const Tensor& t) { return t.nbytes() ? t.data_as<float>() : nullptr; }

}  // namespace

struct Transformer::Impl {
  const model::TensorSource& src;
  model::ModelConfig cfg;
  const model::ArchitectureInfo* arch = nullptr;
  ForwardOptions opts;
  bool neox = false;  // rotate-half RoPE (Qwen) vs interleaved pairs (Llama in GGUF layout)
  std::vector<std::optional<LayerWeights>> cache;  // non-streaming mode
  std::optional<Tensor> output_cache, output_norm;
  Tensor rope_freqs;             // llama3-style per-dimension frequency divisors (empty when absent)
  Tensor rope_long, rope_short;  // LongRoPE's divisors beyond / within the original context (Phi-3)
  std::optional<io::CompressedTensorsConfig> quant;  // compressed-tensors checkpoints (W8A8 runs in int8)
  ThreadPool pool;

  Impl(const model::TensorSource& s, ForwardOptions o)
      : src(s), cfg(forward_config(s)), opts(std::move(o)), pool(opts.threads) {
    arch = model::find_architecture_by_hf(cfg.architecture);
    check(arch != nullptr, ErrorCode::UnsupportedConversion,
          "no forward pass for architecture '" + cfg.architecture + "'");
    check(!opts.ggml_numerics || exact_numerics_supported(cfg), ErrorCode::UnsupportedConversion,
          "llama.cpp's exact numerics are implemented for Llama/Mistral/Qwen blocks, not " + cfg.architecture,
          "Use the f32 forward pass (`ggml_numerics = false`)");
    neox = !arch->permute_qk && !arch->interleaved_rope;
    check(arch->ssm || (cfg.num_heads > 0 && cfg.num_kv_heads > 0 && cfg.head_dim > 0 && cfg.hidden_size > 0),
          ErrorCode::ValidationFailed, "model hyper-parameters are incomplete");
    cache.resize(static_cast<size_t>(cfg.num_layers));
    if (!cfg.quantization_config.empty()) {
      // GPTQ / AWQ weights decode to floats in the tensor source; only
      // compressed-tensors schemes can also quantize activations.
      const std::string method = io::quant_method_of(cfg.quantization_config);
      if (method != "gptq" && method != "awq") quant = io::parse_compressed_tensors_config(cfg.quantization_config);
      check(!opts.ggml_numerics, ErrorCode::UnsupportedConversion,
            "llama.cpp numerics are only defined for float and GGUF weights, not quantized checkpoints");
    }
    check(!(opts.ggml_numerics && opts.simulate_w8a8), ErrorCode::InvalidArgument,
          "W8A8 simulation and llama.cpp numerics exclude each other");
    cpu::set_blas_threads(pool.size());
    output_norm = load("output_norm.weight");
    rope_freqs = load("rope_freqs.weight", false);
    rope_long = load("rope_factors_long.weight", false);
    rope_short = load("rope_factors_short.weight", false);
  }

  Tensor load(const std::string& name, bool required = true) const {
    const model::SourceTensor* t = src.find(name);
    if (!t) {
      check(!required, ErrorCode::ValidationFailed, "model has no tensor '" + name + "'");
      return Tensor();
    }
    Tensor f = src.read_f32(*t);
    src.release(*t);
    if (opts.transform) f = opts.transform(*t, std::move(f));
    return f;
  }

  // How this model's linear weights load (its quantization scheme, the caller's transform, W8A8 simulation).
  LinearLoad linear_load() const { return {quant ? &*quant : nullptr, &opts.transform, opts.simulate_w8a8}; }

  LayerWeights load_layer(int l) const {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights w;
    if (arch->ssm) return load_ssm_layer(p);
    w.attn_norm = load(p + "attn_norm.weight", arch->pre_norms);
    // (Qwen3.5's FFN input norm is called post_attention_norm in GGUF.)
    w.ffn_norm = load(p + (arch->gated_delta_net ? "post_attention_norm.weight" : "ffn_norm.weight"),
                      arch->pre_norms && !arch->parallel_block);
    w.q_norm = load(p + "attn_q_norm.weight", false);
    w.k_norm = load(p + "attn_k_norm.weight", false);
    w.bq = load(p + "attn_q.bias", false);
    w.bk = load(p + "attn_k.bias", false);
    w.bv = load(p + "attn_v.bias", false);
    if (arch->post_norms) w.post_attn_norm = load(p + "post_attention_norm.weight");
    w.post_ffn_norm = load(p + "post_ffw_norm.weight", arch->post_norms);
    const LinearLoad how = linear_load();
    if (cfg.is_recurrent_layer(l)) {
      w.delta = std::make_unique<DeltaNetWeights>();
      DeltaNetWeights& m = *w.delta;
      m.qkv = load_linear(src, p + "attn_qkv.weight", how);
      m.gate = load_linear(src, p + "attn_gate.weight", how);
      if (arch->grouped_value_heads) {
        m.ba = load_linear(src, p + "ssm_ba.weight", how);
      } else {
        m.beta = load_linear(src, p + "ssm_beta.weight", how);
        m.alpha = load_linear(src, p + "ssm_alpha.weight", how);
      }
      m.out = load_linear(src, p + "ssm_out.weight", how);
      m.conv = load(p + "ssm_conv1d.weight");
      m.dt_bias = load(p + "ssm_dt.bias");
      m.a = load(p + "ssm_a");
      m.norm = load(p + "ssm_norm.weight");
    } else if (arch->fused_projections) {
      w.wqkv = load_linear(src, p + "attn_qkv.weight", how);
    } else {
      w.wq = load_linear(src, p + "attn_q.weight", how);
      w.wk = load_linear(src, p + "attn_k.weight", how);
      w.wv = load_linear(src, p + "attn_v.weight", how);
    }
    if (!w.delta) w.wo = load_linear(src, p + "attn_output.weight", how);
    if (cfg.is_moe()) {
      w.moe = std::make_unique<MoeWeights>(src, cfg, l, how);
      return w;
    }
    if (!arch->fused_projections) w.wg = load_linear(src, p + "ffn_gate.weight", how);
    w.wu = load_linear(src, p + "ffn_up.weight", how);
    w.wd = load_linear(src, p + "ffn_down.weight", how);
    return w;
  }

  LayerWeights load_ssm_layer(const std::string& p) const {
    const LinearLoad how = linear_load();
    LayerWeights w;
    w.attn_norm = load(p + "attn_norm.weight");
    w.ssm = std::make_unique<Mamba2Weights>();
    Mamba2Weights& m = *w.ssm;
    m.in = load_linear(src, p + "ssm_in.weight", how);
    m.out = load_linear(src, p + "ssm_out.weight", how);
    m.conv = load(p + "ssm_conv1d.weight");
    m.conv_bias = load(p + "ssm_conv1d.bias", false);
    m.dt_bias = load(p + "ssm_dt.bias");
    m.a = load(p + "ssm_a");
    m.d = load(p + "ssm_d");
    m.norm = load(p + "ssm_norm.weight");
    return w;
  }

  const LayerWeights& layer(int l, std::optional<LayerWeights>& scratch) {
    if (!opts.streaming) {
      auto& c = cache[static_cast<size_t>(l)];
      if (!c) c = load_layer(l);
      return *c;
    }
    scratch = load_layer(l);
    return *scratch;
  }

  // Embedding rows for the tokens, decoded row by row (the table is never loaded whole).
  void embed(const std::vector<std::vector<int32_t>>& batch, float* h) const {
    const model::SourceTensor* emb = src.find("token_embd.weight");
    check(emb != nullptr, ErrorCode::ValidationFailed, "model has no token_embd.weight");
    const int64_t d = cfg.hidden_size;
    const uint64_t rb = emb->nbytes / emb->shape.rows();
    std::vector<std::byte> raw(rb);
    size_t r = 0;
    for (const auto& seq : batch)
      for (int32_t id : seq) {
        check(id >= 0 && static_cast<uint64_t>(id) < emb->shape.rows(), ErrorCode::InvalidArgument,
              "token id " + std::to_string(id) + " is outside the vocabulary");
        src.read_rows(*emb, static_cast<uint64_t>(id), 1, raw.data());
        float* row = h + static_cast<int64_t>(r++) * d;
        gguf::dequantize(emb->dtype, raw.data(), row, d);
        require_finite("tensor 'token_embd.weight'", row, static_cast<size_t>(d), static_cast<uint64_t>(id) * d);
      }
  }

  static void report(calib::LinearHook* hook, int l, const char* what, const float* x, int64_t rows, int64_t cols) {
    HookSite{hook, l}.input(what, x, rows, cols);
  }

  static void report_out(calib::LinearHook* hook, int l, const char* what, const float* y, int64_t rows, int64_t cols) {
    if (!hook || !hook->wants_outputs()) return;
    const std::string name = "blk." + std::to_string(l) + "." + what;
    hook->on_output({l, name, y, rows, cols});
  }

  Transformer::Hidden embed_batch(const std::vector<std::vector<int32_t>>& batch) const {
    check(!batch.empty(), ErrorCode::InvalidArgument, "empty batch");
    const auto T = static_cast<int64_t>(batch[0].size());
    for (const auto& s : batch)
      check(static_cast<int64_t>(s.size()) == T, ErrorCode::InvalidArgument, "sequences differ in length");
    Transformer::Hidden x{static_cast<int64_t>(batch.size()), T, {}};
    x.h.resize(static_cast<size_t>(x.batch * T * cfg.hidden_size));
    embed(batch, x.h.data());
    if (arch->scaled_embedding) {  // Gemma: x sqrt(d), in float as llama.cpp
      const float scale = std::sqrt(static_cast<float>(cfg.hidden_size));
      for (float& v : x.h) v *= scale;
    }
    if (cfg.embedding_scale != 1.0)  // Granite's embedding multiplier
      for (float& v : x.h) v *= static_cast<float>(cfg.embedding_scale);
    return x;
  }

  void run_layer(int l, const std::vector<Transformer::Hidden*>& xs, calib::LinearHook* hook) {
    check(l >= 0 && l < cfg.num_layers, ErrorCode::InvalidArgument, "layer index out of range");
    std::optional<LayerWeights> scratch;
    const LayerWeights& w = layer(l, scratch);
    for (Transformer::Hidden* x : xs) apply_layer(l, w, *x, hook);
  }

  // y[N, out] = x[N, in] W^T in llama.cpp's arithmetic: F16 weights see f16
  // activations (ggml converts them to the weight's dot type first).
  void ggml_linear(int l, const char* what, const LinearWeight& lw, const float* x, int64_t N, int64_t in, float* y,
                   const Tensor& bias = Tensor()) {
    const Tensor& w = lw.w;
    const int64_t out = w.shape()[0];
    const model::SourceTensor* t = src.find("blk." + std::to_string(l) + "." + what);
    const float* b = x;
    std::vector<float> rounded;
    if (t && t->dtype == DType::F16) {
      rounded.assign(x, x + N * in);
      cpu::ggml::round_to_half(rounded.data(), N * in);
      b = rounded.data();
    }
    cpu::ggml::matmul_f32(ptr(w), in, out, b, in, N, in, y, out, pool);
    if (const float* bb = ptr(bias))
      for (int64_t r = 0; r < N; ++r)
        for (int64_t i = 0; i < out; ++i) y[r * out + i] += bb[i];
  }

  // The layer as llama.cpp's CPU backend computes it, op for op (see ggml_exact.hpp).
  void apply_layer_ggml(int l, const LayerWeights& w, Transformer::Hidden& x, calib::LinearHook* hook) {
    const int64_t B = x.batch, T = x.seq, N = B * T, d = cfg.hidden_size, hd = cfg.head_dim;
    const int64_t nh = cfg.num_heads, nkv = cfg.num_kv_heads, qd = nh * hd, kvd = nkv * hd, ff = cfg.intermediate_size;
    const auto eps = static_cast<float>(cfg.rms_norm_eps);
    std::vector<float>& h = x.h;
    std::vector<float> xn(h.size()), q(static_cast<size_t>(N * qd)), k(static_cast<size_t>(N * kvd)), v(k.size()),
        o(q.size()), g(static_cast<size_t>(N * ff)), u(g.size());
    std::vector<int64_t> pos(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; ++i) pos[i] = i % T;

    cpu::ggml::rms_norm(h.data(), ptr(w.attn_norm), N, d, eps, xn.data());
    report(hook, l, "attn_q.weight", xn.data(), N, d);
    report(hook, l, "attn_k.weight", xn.data(), N, d);
    report(hook, l, "attn_v.weight", xn.data(), N, d);
    ggml_linear(l, "attn_q.weight", w.wq, xn.data(), N, d, q.data(), w.bq);
    ggml_linear(l, "attn_k.weight", w.wk, xn.data(), N, d, k.data(), w.bk);
    ggml_linear(l, "attn_v.weight", w.wv, xn.data(), N, d, v.data(), w.bv);
    if (w.q_norm.nbytes()) cpu::ggml::rms_norm(q.data(), ptr(w.q_norm), N * nh, hd, eps, q.data());
    if (w.k_norm.nbytes()) cpu::ggml::rms_norm(k.data(), ptr(w.k_norm), N * nkv, hd, eps, k.data());
    const float freq_scale =
        cfg.rope_scaling_type == "linear" ? static_cast<float>(1.0 / cfg.rope_scaling_factor) : 1.0f;
    const auto base = static_cast<float>(cfg.rope_theta);
    cpu::ggml::rope(q.data(), N, nh, hd, pos.data(), base, freq_scale, neox, ptr(rope_freqs));
    cpu::ggml::rope(k.data(), N, nkv, hd, pos.data(), base, freq_scale, neox, ptr(rope_freqs));
    for (int64_t s = 0; s < B; ++s)
      cpu::ggml::attention(q.data() + s * T * qd, k.data() + s * T * kvd, v.data() + s * T * kvd, T, nh, nkv, hd,
                           o.data() + s * T * qd, pool);
    report(hook, l, "attn_output.weight", o.data(), N, qd);
    ggml_linear(l, "attn_output.weight", w.wo, o.data(), N, qd, xn.data());
    for (size_t i = 0; i < h.size(); ++i) h[i] = xn[i] + h[i];

    cpu::ggml::rms_norm(h.data(), ptr(w.ffn_norm), N, d, eps, xn.data());
    report(hook, l, "ffn_gate.weight", xn.data(), N, d);
    report(hook, l, "ffn_up.weight", xn.data(), N, d);
    ggml_linear(l, "ffn_gate.weight", w.wg, xn.data(), N, d, g.data());
    ggml_linear(l, "ffn_up.weight", w.wu, xn.data(), N, d, u.data());
    cpu::ggml::silu_mul(g.data(), u.data(), g.data(), N, ff);
    report(hook, l, "ffn_down.weight", g.data(), N, ff);
    ggml_linear(l, "ffn_down.weight", w.wd, g.data(), N, ff, xn.data());
    report_out(hook, l, "ffn_down.weight", xn.data(), N, d);
    for (size_t i = 0; i < h.size(); ++i) h[i] = xn[i] + h[i];
  }

  void apply_layer(int l, const LayerWeights& w, Transformer::Hidden& x, calib::LinearHook* hook) {
    if (opts.ggml_numerics) return apply_layer_ggml(l, w, x, hook);
    const int64_t N = x.batch * x.seq, d = cfg.hidden_size;
    std::vector<float>& h = x.h;
    std::vector<float> xn(h.size()), a(h.size());
    pre_norm(h, w.attn_norm, N, d, xn);
    if (w.ssm) {  // Mamba-2: the mixer is the whole layer
      mamba2_mixer(*w.ssm, cfg, l, xn.data(), x.batch, x.seq, a.data(), pool, hook);
      for (size_t i = 0; i < h.size(); ++i) h[i] += a[i];
      return;
    }
    if (w.delta)
      gated_delta_net(*w.delta, cfg, l, xn.data(), x.batch, x.seq, a.data(), pool, hook);
    else
      attention(l, w, xn, x.batch, x.seq, a, hook);
    if (const float* pn = ptr(w.post_attn_norm)) cpu::rms_norm(a.data(), pn, N, d, cfg.rms_norm_eps, a.data());
    const auto rs = static_cast<float>(cfg.residual_scale);
    if (arch->parallel_block) {  // Command-R: the FFN reads the same normed input; both join the residual at once
      std::vector<float> f(h.size());
      feed_forward(l, w, xn, N, f, hook);
      for (size_t i = 0; i < h.size(); ++i) h[i] = (f[i] + h[i]) + a[i];
      return;
    }
    for (size_t i = 0; i < h.size(); ++i) h[i] += rs == 1.0f ? a[i] : a[i] * rs;
    pre_norm(h, w.ffn_norm, N, d, xn);
    feed_forward(l, w, xn, N, a, hook);
    if (const float* pn = ptr(w.post_ffn_norm)) cpu::rms_norm(a.data(), pn, N, d, cfg.rms_norm_eps, a.data());
    for (size_t i = 0; i < h.size(); ++i) h[i] += rs == 1.0f ? a[i] : a[i] * rs;
  }

  // Half of block l on each x: the attention or the FFN sublayer, its output
  // (post-norm applied) added to the stream or put in its place.
  void run_part(int l, Transformer::Sublayer part, const std::vector<Transformer::Hidden*>& xs, bool residual) {
    check(l >= 0 && l < cfg.num_layers, ErrorCode::InvalidArgument, "layer index out of range");
    check(!arch->parallel_block && !arch->ssm && !arch->gated_delta_net && !opts.ggml_numerics,
          ErrorCode::InvalidArgument,
          "this block has no separate attention and FFN sublayers (parallel ones, or a state-space mixer), or runs "
          "with llama.cpp's numerics");
    std::optional<LayerWeights> scratch;
    const LayerWeights& w = layer(l, scratch);
    const int64_t d = cfg.hidden_size;
    const auto rs = static_cast<float>(cfg.residual_scale);
    for (Transformer::Hidden* x : xs) {
      const int64_t N = x->batch * x->seq;
      std::vector<float>& h = x->h;
      std::vector<float> xn(h.size()), a(h.size());
      const float* post = nullptr;
      if (part == Transformer::Sublayer::Attention) {
        pre_norm(h, w.attn_norm, N, d, xn);
        attention(l, w, xn, x->batch, x->seq, a, nullptr);
        post = ptr(w.post_attn_norm);
      } else {
        pre_norm(h, w.ffn_norm, N, d, xn);
        feed_forward(l, w, xn, N, a, nullptr);
        post = ptr(w.post_ffn_norm);
      }
      if (post) cpu::rms_norm(a.data(), post, N, d, cfg.rms_norm_eps, a.data());
      if (!residual) {
        h.swap(a);
        continue;
      }
      for (size_t i = 0; i < h.size(); ++i) h[i] += rs == 1.0f ? a[i] : a[i] * rs;
    }
  }

  // The rotary embedding of layer l for sequences of T tokens.
  cpu::RopeSpec rope_spec(int l, int64_t T) const {
    const bool local = cfg.is_local_layer(l);
    cpu::RopeSpec r;
    r.base = local ? cfg.rope_theta_local : cfg.rope_theta;
    // Gemma 3 scales positions on its global layers only (llama.cpp: freq_scale_swa = 1).
    r.pos_scale = cfg.rope_scaling_type == "linear" && !local ? 1.0 / cfg.rope_scaling_factor : 1.0;
    r.neox = neox;
    r.n_rot = cfg.rotary_dims();
    r.mscale = cfg.rope_attn_factor;
    r.freq_factors = ptr(rope_freqs);
    if (!r.freq_factors)  // LongRoPE: the long factors once a sequence outgrows the original context
      r.freq_factors = ptr(T > cfg.rope_original_context && rope_long.nbytes() ? rope_long : rope_short);
    return r;
  }

  // Self-attention of normed input xn[N, d] into out[N, d] (output projection included).
  void attention(int l, const LayerWeights& w, const std::vector<float>& xn, int64_t B, int64_t T,
                 std::vector<float>& out, calib::LinearHook* hook) {
    const int64_t N = B * T, d = cfg.hidden_size, hd = cfg.head_dim, nh = cfg.num_heads, nkv = cfg.num_kv_heads;
    const int64_t qd = nh * hd, kvd = nkv * hd;
    const double eps = cfg.rms_norm_eps;
    std::vector<float> q(static_cast<size_t>(N * qd)), k(static_cast<size_t>(N * kvd)), v(k.size()), o(q.size()), gate;
    std::vector<int64_t> pos(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; ++i) pos[i] = i % T;
    if (arch->fused_projections) {
      report(hook, l, "attn_qkv.weight", xn.data(), N, d);
      std::vector<float> qkv(static_cast<size_t>(N * (qd + 2 * kvd)));
      apply_linear(w.wqkv, xn.data(), N, nullptr, qkv.data(), pool);
      for (int64_t r = 0; r < N; ++r) {
        const float* row = qkv.data() + r * (qd + 2 * kvd);
        std::copy(row, row + qd, q.data() + r * qd);
        std::copy(row + qd, row + qd + kvd, k.data() + r * kvd);
        std::copy(row + qd + kvd, row + qd + 2 * kvd, v.data() + r * kvd);
      }
    } else {
      report(hook, l, "attn_q.weight", xn.data(), N, d);
      report(hook, l, "attn_k.weight", xn.data(), N, d);
      report(hook, l, "attn_v.weight", xn.data(), N, d);
      if (arch->attention_gate)
        split_query_gate(w, xn.data(), N, q, gate);
      else
        apply_linear(w.wq, xn.data(), N, ptr(w.bq), q.data(), pool);
      apply_linear(w.wk, xn.data(), N, ptr(w.bk), k.data(), pool);
      apply_linear(w.wv, xn.data(), N, ptr(w.bv), v.data(), pool);
    }
    // q/k norms per head, or (OLMo 2) over all heads of a position at once.
    const bool whole = arch->qk_norm_whole;
    if (w.q_norm.nbytes()) cpu::rms_norm(q.data(), ptr(w.q_norm), whole ? N : N * nh, whole ? qd : hd, eps, q.data());
    if (w.k_norm.nbytes()) cpu::rms_norm(k.data(), ptr(w.k_norm), whole ? N : N * nkv, whole ? kvd : hd, eps, k.data());
    const cpu::RopeSpec rope = rope_spec(l, T);
    cpu::rope(q.data(), N, nh, hd, pos.data(), rope);
    cpu::rope(k.data(), N, nkv, hd, pos.data(), rope);
    const int64_t group = nh / nkv, window = cfg.is_local_layer(l) ? cfg.sliding_window : 0;
    const auto scale = static_cast<float>(cfg.attention_scale), softcap = static_cast<float>(cfg.attn_logit_softcap);
    const cpu::SingleThreadedBlas one(pool.size());  // heads run in parallel, each on its own BLAS calls
    pool.parallel_for(static_cast<size_t>(B * nh), 1, [&](size_t a, size_t b) {
      std::vector<float> sc(cpu::attention_scratch_floats(T));
      for (size_t i = a; i < b; ++i) {
        const int64_t s = static_cast<int64_t>(i) / nh, hh = static_cast<int64_t>(i) % nh, kh = hh / group;
        cpu::causal_attention_head(q.data() + s * T * qd + hh * hd, qd, k.data() + s * T * kvd + kh * hd, kvd,
                                   v.data() + s * T * kvd + kh * hd, kvd, T, hd, o.data() + s * T * qd + hh * hd, qd,
                                   sc.data(), scale, window, softcap);
      }
    });
    for (size_t i = 0; i < gate.size(); ++i) o[i] /= 1.0f + std::exp(-gate[i]);  // o * sigmoid(gate)
    report(hook, l, "attn_output.weight", o.data(), N, qd);
    apply_linear(w.wo, o.data(), N, nullptr, out.data(), pool);
  }

  // Qwen3.5's Q projection: per head [query | gate], split into q[N, heads * hd] and gate (same shape).
  void split_query_gate(const LayerWeights& w, const float* xn, int64_t N, std::vector<float>& q,
                        std::vector<float>& gate) {
    const int64_t nh = cfg.num_heads, hd = cfg.head_dim;
    std::vector<float> qg(static_cast<size_t>(N * 2 * nh * hd));
    apply_linear(w.wq, xn, N, ptr(w.bq), qg.data(), pool);
    gate.resize(q.size());
    for (int64_t r = 0; r < N; ++r)
      for (int64_t h = 0; h < nh; ++h) {
        const float* head = qg.data() + (r * nh + h) * 2 * hd;
        std::copy(head, head + hd, q.data() + (r * nh + h) * hd);
        std::copy(head + hd, head + 2 * hd, gate.data() + (r * nh + h) * hd);
      }
  }

  // Gated FFN of normed input xn[N, d] into out[N, d].
  void feed_forward(int l, const LayerWeights& w, const std::vector<float>& xn, int64_t N, std::vector<float>& out,
                    calib::LinearHook* hook) {
    if (w.moe) return moe_feed_forward(*w.moe, cfg, l, xn.data(), N, out.data(), pool, hook);
    const int64_t d = cfg.hidden_size, ff = cfg.intermediate_size;
    std::vector<float> g(static_cast<size_t>(N * ff)), u(g.size());
    if (arch->fused_projections) {  // gate|up in one weight: the first ff outputs gate, the rest go up
      report(hook, l, "ffn_up.weight", xn.data(), N, d);
      std::vector<float> gu(static_cast<size_t>(N * 2 * ff));
      apply_linear(w.wu, xn.data(), N, nullptr, gu.data(), pool);
      for (int64_t r = 0; r < N; ++r) {
        std::copy(gu.data() + r * 2 * ff, gu.data() + r * 2 * ff + ff, g.data() + r * ff);
        std::copy(gu.data() + r * 2 * ff + ff, gu.data() + (r + 1) * 2 * ff, u.data() + r * ff);
      }
    } else {
      report(hook, l, "ffn_gate.weight", xn.data(), N, d);
      report(hook, l, "ffn_up.weight", xn.data(), N, d);
      apply_linear(w.wg, xn.data(), N, nullptr, g.data(), pool);
      apply_linear(w.wu, xn.data(), N, nullptr, u.data(), pool);
    }
    if (arch->gelu)
      cpu::gelu_tanh_mul(g.data(), u.data(), g.data(), N * ff);
    else
      cpu::silu_mul(g.data(), u.data(), g.data(), N * ff);
    report(hook, l, "ffn_down.weight", g.data(), N, ff);
    apply_linear(w.wd, g.data(), N, nullptr, out.data(), pool);
    report_out(hook, l, "ffn_down.weight", out.data(), N, d);
  }

  // The input norm of a sub-block; families without one (OLMo 2) feed the residual stream itself.
  void pre_norm(const std::vector<float>& h, const Tensor& weight, int64_t N, int64_t d,
                std::vector<float>& out) const {
    if (!arch->pre_norms)
      std::copy(h.begin(), h.end(), out.begin());
    else
      norm(h.data(), weight, N, d, out.data());
  }

  // The family's norm (RMSNorm, or Command-R's LayerNorm) of x[N, d] into y.
  void norm(const float* x, const Tensor& weight, int64_t N, int64_t d, float* y) const {
    if (arch->layer_norm)
      cpu::layer_norm(x, ptr(weight), N, d, cfg.rms_norm_eps, y);
    else
      cpu::rms_norm(x, ptr(weight), N, d, cfg.rms_norm_eps, y);
  }

  // Final norm and logits only for positions [logits_from, T) of each sequence.
  std::vector<float> logits(const Transformer::Hidden& x, int64_t logits_from, calib::LinearHook* hook) {
    const int64_t B = x.batch, T = x.seq, d = cfg.hidden_size;
    check(logits_from >= 0 && logits_from <= T, ErrorCode::InvalidArgument, "logits_from outside the sequence");
    const int64_t keep = T - logits_from, M = B * keep;
    std::vector<float> sel(static_cast<size_t>(M * d));
    for (int64_t s = 0; s < B; ++s)
      std::memcpy(sel.data() + s * keep * d, x.h.data() + (s * T + logits_from) * d, static_cast<size_t>(keep * d) * 4);
    if (opts.ggml_numerics)
      cpu::ggml::rms_norm(sel.data(), ptr(*output_norm), M, d, static_cast<float>(cfg.rms_norm_eps), sel.data());
    else
      norm(sel.data(), *output_norm, M, d, sel.data());
    if (hook && hook->wants_output_layer()) report(hook, -1, "output.weight", sel.data(), M, d);
    std::vector<float> out;
    if (const model::SourceTensor* t = output_tensor();
        opts.streaming && !opts.ggml_numerics && !opts.transform && gguf::can_dequantize(t->dtype)) {
      project_in_blocks(*t, sel.data(), M, out);
    } else {
      const Tensor* out_w = output_weight();
      const int64_t vocab = out_w->shape()[0];
      out.resize(static_cast<size_t>(M * vocab));
      if (opts.ggml_numerics)
        cpu::ggml::matmul_f32(ptr(*out_w), d, vocab, sel.data(), d, M, d, out.data(), vocab, pool);
      else
        cpu::linear(sel.data(), M, d, ptr(*out_w), vocab, nullptr, out.data());
    }
    if (const auto ls = static_cast<float>(cfg.logit_scale); ls != 1.0f)  // Granite, Command-R
      for (float& v : out) v *= ls;
    if (const auto cap = static_cast<float>(cfg.final_logit_softcap); cap > 0.0f)
      for (float& v : out) v = cap * std::tanh(v / cap);
    if (opts.streaming) output_cache.reset();
    return out;
  }

  std::vector<float> forward(const std::vector<std::vector<int32_t>>& batch, int64_t logits_from,
                             calib::LinearHook* hook) {
    Transformer::Hidden x = embed_batch(batch);
    for (int l = 0; l < cfg.num_layers; ++l) run_layer(l, {&x}, hook);
    return logits(x, logits_from, hook);
  }

  // The output projection: output.weight, or the embedding when tied.
  const model::SourceTensor* output_tensor() const {
    const model::SourceTensor* t = src.find("output.weight");
    if (!t) t = src.find("token_embd.weight");
    check(t != nullptr && t->shape.rank() == 2, ErrorCode::ValidationFailed, "model has no output projection");
    return t;
  }

  const Tensor* output_weight() {
    if (!output_cache) output_cache = load(output_tensor()->name);
    return &*output_cache;
  }

  // Streaming logits: the output matrix decoded ~64 MiB of rows at a time (a
  // 256k-word vocabulary's f32 output matrix alone is 3.7 GB for Gemma 2 9B).
  void project_in_blocks(const model::SourceTensor& t, const float* x, int64_t M, std::vector<float>& out) const {
    const int64_t d = cfg.hidden_size, vocab = static_cast<int64_t>(t.shape.rows());
    const uint64_t row_bytes = t.nbytes / t.shape.rows();
    const int64_t block = std::max<int64_t>(1, (int64_t{64} << 20) / (d * 4));
    out.assign(static_cast<size_t>(M * vocab), 0.0f);
    std::vector<std::byte> raw;
    std::vector<float> w, y;
    for (int64_t r0 = 0; r0 < vocab; r0 += block) {
      const int64_t n = std::min(block, vocab - r0);
      raw.resize(static_cast<size_t>(n) * row_bytes);
      src.read_rows(t, static_cast<uint64_t>(r0), static_cast<uint64_t>(n), raw.data());
      w.resize(static_cast<size_t>(n * d));
      gguf::dequantize(t.dtype, raw.data(), w.data(), n * d);
      require_finite("tensor '" + t.name + "'", w.data(), w.size(), static_cast<uint64_t>(r0 * d));
      y.resize(static_cast<size_t>(M * n));
      cpu::linear(x, M, d, w.data(), n, nullptr, y.data());
      for (int64_t m = 0; m < M; ++m) std::copy(y.data() + m * n, y.data() + (m + 1) * n, out.data() + m * vocab + r0);
    }
    src.release(t);
  }
};

Transformer::Transformer(const model::TensorSource& source, ForwardOptions opts)
    : impl_(std::make_unique<Impl>(source, std::move(opts))) {}
Transformer::~Transformer() = default;
const model::ModelConfig& Transformer::config() const noexcept { return impl_->cfg; }
std::vector<float> Transformer::forward(const std::vector<std::vector<int32_t>>& batch, int64_t logits_from,
                                        calib::LinearHook* hook) {
  return impl_->forward(batch, logits_from, hook);
}
Transformer::Hidden Transformer::embed(const std::vector<std::vector<int32_t>>& batch) const {
  return impl_->embed_batch(batch);
}
void Transformer::run_layer(int layer, Hidden& x, calib::LinearHook* hook) { impl_->run_layer(layer, {&x}, hook); }
void Transformer::run_layer(int layer, const std::vector<Hidden*>& xs, calib::LinearHook* hook) {
  impl_->run_layer(layer, xs, hook);
}
void Transformer::run_sublayer(int layer, Sublayer part, const std::vector<Hidden*>& xs, bool add_to_stream) {
  impl_->run_part(layer, part, xs, add_to_stream);
}
std::vector<float> Transformer::logits(const Hidden& x, int64_t logits_from, calib::LinearHook* hook) {
  return impl_->logits(x, logits_from, hook);
}

}  // namespace libquant::eval
