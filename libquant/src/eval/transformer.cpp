#include "libquant/eval/transformer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "../cpu/ggml_exact.hpp"
#include "../cpu/ops.hpp"
#include "linear_weight.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/model_validation.hpp"

namespace libquant::eval {

model::ModelConfig forward_config(const model::TensorSource& source) {
  model::ModelConfig cfg = model::validated_config(source);
  model::check_forward_support(source, cfg);
  return cfg;
}

bool exact_numerics_supported(const model::ModelConfig& cfg) noexcept {
  const model::ArchitectureInfo* arch = cfg.arch();
  return arch && !arch->post_norms && !arch->gelu && !arch->scaled_embedding && cfg.sliding_window == 0 &&
         cfg.final_logit_softcap == 0.0 && cfg.attn_logit_softcap == 0.0 && cfg.attention_scale == 0.0;
}

namespace {

struct LayerWeights {
  Tensor attn_norm, ffn_norm, q_norm, k_norm, bq, bk, bv;
  Tensor post_attn_norm, post_ffn_norm;  // Gemma's norms on the attention and FFN outputs (empty elsewhere)
  LinearWeight wq, wk, wv, wo, wg, wu, wd;
};

const float* ptr(const Tensor& t) { return t.nbytes() ? t.data_as<float>() : nullptr; }

}  // namespace

struct Transformer::Impl {
  const model::TensorSource& src;
  model::ModelConfig cfg;
  const model::ArchitectureInfo* arch = nullptr;
  ForwardOptions opts;
  bool neox = false;           // rotate-half RoPE (Qwen) vs interleaved pairs (Llama in GGUF layout)
  std::vector<std::optional<LayerWeights>> cache;  // non-streaming mode
  std::optional<Tensor> output_cache, output_norm;
  Tensor rope_freqs;  // llama3-style per-dimension frequency divisors (empty when absent)
  std::optional<io::CompressedTensorsConfig> quant;  // compressed-tensors checkpoints (W8A8 runs in int8)
  ThreadPool pool;

  Impl(const model::TensorSource& s, ForwardOptions o)
      : src(s), cfg(forward_config(s)), opts(o), pool(o.threads) {
    arch = model::find_architecture_by_hf(cfg.architecture);
    check(arch != nullptr, ErrorCode::UnsupportedConversion,
          "no forward pass for architecture '" + cfg.architecture + "'");
    check(!opts.ggml_numerics || exact_numerics_supported(cfg), ErrorCode::UnsupportedConversion,
          "llama.cpp's exact numerics are implemented for Llama/Mistral/Qwen blocks, not " + cfg.architecture,
          "Run without --llama-cpp-numerics");
    neox = !arch->permute_qk;
    check(cfg.num_heads > 0 && cfg.num_kv_heads > 0 && cfg.head_dim > 0 && cfg.hidden_size > 0,
          ErrorCode::ValidationFailed, "model hyper-parameters are incomplete");
    cache.resize(static_cast<size_t>(cfg.num_layers));
    if (!cfg.quantization_config.empty()) {
      quant = io::parse_compressed_tensors_config(cfg.quantization_config);
      check(!opts.ggml_numerics, ErrorCode::UnsupportedConversion,
            "llama.cpp numerics are only defined for float and GGUF weights, not compressed-tensors checkpoints");
    }
    check(!(opts.ggml_numerics && opts.simulate_w8a8), ErrorCode::InvalidArgument,
          "W8A8 simulation and llama.cpp numerics exclude each other");
    cpu::set_blas_threads(pool.size());
    output_norm = load("output_norm.weight");
    rope_freqs = load("rope_freqs.weight", false);
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

  LayerWeights load_layer(int l) const {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights w;
    w.attn_norm = load(p + "attn_norm.weight", arch->pre_norms);
    w.ffn_norm = load(p + "ffn_norm.weight", arch->pre_norms);
    w.q_norm = load(p + "attn_q_norm.weight", false);
    w.k_norm = load(p + "attn_k_norm.weight", false);
    w.bq = load(p + "attn_q.bias", false);
    w.bk = load(p + "attn_k.bias", false);
    w.bv = load(p + "attn_v.bias", false);
    w.post_attn_norm = load(p + "post_attention_norm.weight", arch->post_norms);
    w.post_ffn_norm = load(p + "post_ffw_norm.weight", arch->post_norms);
    const LinearLoad how{quant ? &*quant : nullptr, &opts.transform, opts.simulate_w8a8};
    w.wq = load_linear(src, p + "attn_q.weight", how);
    w.wk = load_linear(src, p + "attn_k.weight", how);
    w.wv = load_linear(src, p + "attn_v.weight", how);
    w.wo = load_linear(src, p + "attn_output.weight", how);
    w.wg = load_linear(src, p + "ffn_gate.weight", how);
    w.wu = load_linear(src, p + "ffn_up.weight", how);
    w.wd = load_linear(src, p + "ffn_down.weight", how);
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
    if (!hook) return;
    const std::string name = l >= 0 ? "blk." + std::to_string(l) + "." + what : std::string(what);
    hook->on_input({l, name, x, rows, cols});
  }

  static void report_out(calib::LinearHook* hook, int l, const char* what, const float* y, int64_t rows, int64_t cols) {
    if (!hook || !hook->wants_outputs()) return;
    const std::string name = "blk." + std::to_string(l) + "." + what;
    hook->on_output({l, name, y, rows, cols});
  }

  Transformer::Hidden embed_batch(const std::vector<std::vector<int32_t>>& batch) const {
    check(!batch.empty(), ErrorCode::InvalidArgument, "empty batch");
    const auto T = static_cast<int64_t>(batch[0].size());
    for (const auto& s : batch) check(static_cast<int64_t>(s.size()) == T, ErrorCode::InvalidArgument, "sequences differ in length");
    Transformer::Hidden x{static_cast<int64_t>(batch.size()), T, {}};
    x.h.resize(static_cast<size_t>(x.batch * T * cfg.hidden_size));
    embed(batch, x.h.data());
    if (arch->scaled_embedding) {  // Gemma: x sqrt(d), in float as llama.cpp
      const float scale = std::sqrt(static_cast<float>(cfg.hidden_size));
      for (float& v : x.h) v *= scale;
    }
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
    const float freq_scale = cfg.rope_scaling_type == "linear" ? static_cast<float>(1.0 / cfg.rope_scaling_factor) : 1.0f;
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
    const int64_t B = x.batch, T = x.seq, N = B * T, d = cfg.hidden_size, hd = cfg.head_dim;
    const int64_t nh = cfg.num_heads, nkv = cfg.num_kv_heads, qd = nh * hd, kvd = nkv * hd, ff = cfg.intermediate_size;
    const double eps = cfg.rms_norm_eps;
    std::vector<float>& h = x.h;
    std::vector<float> xn(h.size()), q(static_cast<size_t>(N * qd)), k(static_cast<size_t>(N * kvd)), v(k.size()),
        o(q.size()), g(static_cast<size_t>(N * ff)), u(g.size());
    std::vector<int64_t> pos(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; ++i) pos[i] = i % T;

    pre_norm(h, w.attn_norm, N, d, eps, xn);
    report(hook, l, "attn_q.weight", xn.data(), N, d);
    report(hook, l, "attn_k.weight", xn.data(), N, d);
    report(hook, l, "attn_v.weight", xn.data(), N, d);
    apply_linear(w.wq, xn.data(), N, ptr(w.bq), q.data(), pool);
    apply_linear(w.wk, xn.data(), N, ptr(w.bk), k.data(), pool);
    apply_linear(w.wv, xn.data(), N, ptr(w.bv), v.data(), pool);
    // q/k norms per head, or (OLMo 2) over all heads of a position at once.
    const bool whole = arch->qk_norm_whole;
    if (w.q_norm.nbytes()) cpu::rms_norm(q.data(), ptr(w.q_norm), whole ? N : N * nh, whole ? qd : hd, eps, q.data());
    if (w.k_norm.nbytes()) cpu::rms_norm(k.data(), ptr(w.k_norm), whole ? N : N * nkv, whole ? kvd : hd, eps, k.data());
    const bool local = cfg.is_local_layer(l);
    // Gemma 3 scales positions on its global layers only (llama.cpp: freq_scale_swa = 1).
    const double pos_scale = cfg.rope_scaling_type == "linear" && !local ? 1.0 / cfg.rope_scaling_factor : 1.0;
    const double theta = local ? cfg.rope_theta_local : cfg.rope_theta;
    cpu::rope(q.data(), N, nh, hd, pos.data(), theta, pos_scale, neox, ptr(rope_freqs));
    cpu::rope(k.data(), N, nkv, hd, pos.data(), theta, pos_scale, neox, ptr(rope_freqs));
    const int64_t group = nh / nkv, window = local ? cfg.sliding_window : 0;
    const auto scale = static_cast<float>(cfg.attention_scale), softcap = static_cast<float>(cfg.attn_logit_softcap);
    pool.parallel_for(static_cast<size_t>(B * nh), 1, [&](size_t a, size_t b) {
      std::vector<float> sc(static_cast<size_t>(T));
      for (size_t i = a; i < b; ++i) {
        const int64_t s = static_cast<int64_t>(i) / nh, hh = static_cast<int64_t>(i) % nh, kh = hh / group;
        cpu::causal_attention_head(q.data() + s * T * qd + hh * hd, qd, k.data() + s * T * kvd + kh * hd, kvd,
                                   v.data() + s * T * kvd + kh * hd, kvd, T, hd, o.data() + s * T * qd + hh * hd, qd,
                                   sc.data(), scale, window, softcap);
      }
    });
    report(hook, l, "attn_output.weight", o.data(), N, qd);
    apply_linear(w.wo, o.data(), N, nullptr, xn.data(), pool);
    if (const float* pn = ptr(w.post_attn_norm)) cpu::rms_norm(xn.data(), pn, N, d, eps, xn.data());
    for (size_t i = 0; i < h.size(); ++i) h[i] += xn[i];

    pre_norm(h, w.ffn_norm, N, d, eps, xn);
    report(hook, l, "ffn_gate.weight", xn.data(), N, d);
    report(hook, l, "ffn_up.weight", xn.data(), N, d);
    apply_linear(w.wg, xn.data(), N, nullptr, g.data(), pool);
    apply_linear(w.wu, xn.data(), N, nullptr, u.data(), pool);
    if (arch->gelu) cpu::gelu_tanh_mul(g.data(), u.data(), g.data(), N * ff);
    else cpu::silu_mul(g.data(), u.data(), g.data(), N * ff);
    report(hook, l, "ffn_down.weight", g.data(), N, ff);
    apply_linear(w.wd, g.data(), N, nullptr, xn.data(), pool);
    report_out(hook, l, "ffn_down.weight", xn.data(), N, d);
    if (const float* pn = ptr(w.post_ffn_norm)) cpu::rms_norm(xn.data(), pn, N, d, eps, xn.data());
    for (size_t i = 0; i < h.size(); ++i) h[i] += xn[i];
  }

  // The input norm of a sub-block; families without one (OLMo 2) feed the residual stream itself.
  void pre_norm(const std::vector<float>& h, const Tensor& weight, int64_t N, int64_t d, double eps,
                std::vector<float>& out) const {
    if (arch->pre_norms) cpu::rms_norm(h.data(), ptr(weight), N, d, eps, out.data());
    else std::copy(h.begin(), h.end(), out.begin());
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
      cpu::rms_norm(sel.data(), ptr(*output_norm), M, d, cfg.rms_norm_eps, sel.data());
    if (hook && hook->wants_output_layer()) report(hook, -1, "output.weight", sel.data(), M, d);
    const Tensor* out_w = output_weight();
    const int64_t vocab = out_w->shape()[0];
    std::vector<float> out(static_cast<size_t>(M * vocab));
    if (opts.ggml_numerics)
      cpu::ggml::matmul_f32(ptr(*out_w), d, vocab, sel.data(), d, M, d, out.data(), vocab, pool);
    else
      cpu::linear(sel.data(), M, d, ptr(*out_w), vocab, nullptr, out.data());
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

  const Tensor* output_weight() {
    if (!output_cache) {
      const bool tied = src.find("output.weight") == nullptr;
      output_cache = load(tied ? "token_embd.weight" : "output.weight");
    }
    return &*output_cache;
  }
};

Transformer::Transformer(const model::TensorSource& source, ForwardOptions opts)
    : impl_(std::make_unique<Impl>(source, opts)) {}
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
std::vector<float> Transformer::logits(const Hidden& x, int64_t logits_from, calib::LinearHook* hook) {
  return impl_->logits(x, logits_from, hook);
}

}  // namespace libquant::eval
