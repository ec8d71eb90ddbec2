#include "libquant/eval/decoder_block_grad.hpp"

#include "libquant/backend/backend.hpp"

#include <algorithm>
#include <cmath>

#include "../cpu/ops.hpp"
#include "libquant/core/error.hpp"
#include "libquant/eval/transformer.hpp"

namespace libquant::eval {
namespace {

// C[M, N] = alpha op(A) op(B) + beta C, row-major with explicit leading dimensions.
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  backend::active().gemm_f32(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Dense row-major shorthands: C = op(A) op(B) (+ C when accumulate).
void mm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* a, const float* b, float* c,
        bool accumulate = false) {
  gemm(ta, tb, M, N, K, 1.0f, a, ta ? M : K, b, tb ? K : N, accumulate ? 1.0f : 0.0f, c, N);
}

// y[n, out] = x[n, in] w[out, in]^T (+ bias).
void linear(const float* x, int64_t n, int64_t in, const float* w, int64_t out, const std::vector<float>& bias,
            float* y) {
  gemm(false, true, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  if (!bias.empty())
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < out; ++c) y[r * out + c] += bias[c];
}

// y = x * r * w per row (r = 1 / rms), keeping r.
void rms_norm_keep(const float* x, const float* w, int64_t n, int64_t d, double eps, float* y, float* r) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xr = x + i * d;
    double ss = 0;
    for (int64_t j = 0; j < d; ++j) ss += double(xr[j]) * xr[j];
    r[i] = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(d) + eps));
    for (int64_t j = 0; j < d; ++j) y[i * d + j] = xr[j] * r[i] * w[j];
  }
}

// dx += d/dx of y = x r(x) w given dy: with z = w * dy,
// dx = r z - x r^3 (x . z) / d.
void rms_norm_backward(const float* x, const float* r, const float* w, const float* dy, int64_t n, int64_t d,
                       float* dx) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xr = x + i * d;
    const float* dyr = dy + i * d;
    double xz = 0;
    for (int64_t j = 0; j < d; ++j) xz += double(xr[j]) * w[j] * dyr[j];
    const double ri = r[i], c = ri * ri * ri * xz / static_cast<double>(d);
    for (int64_t j = 0; j < d; ++j) dx[i * d + j] += static_cast<float>(ri * w[j] * dyr[j] - xr[j] * c);
  }
}

std::vector<float> read_or_empty(const model::TensorSource& src, const std::string& name) {
  const model::SourceTensor* t = src.find(name);
  if (!t) return {};
  Tensor f = src.read_f32(*t);
  src.release(*t);
  const float* p = f.data_as<float>();
  return {p, p + f.shape().numel()};
}

// The architecture of block `layer` (prefix `p`) when this module can
// differentiate it; throws UnsupportedConversion otherwise.
const model::ArchitectureInfo& supported_architecture(const model::TensorSource& src, const model::ModelConfig& cfg,
                                                      const std::string& p) {
  const auto* arch = cfg.arch();
  check(arch != nullptr, ErrorCode::UnsupportedConversion,
        "block-output matching has no forward pass for architecture '" + cfg.architecture + "'",
        "Turn it off (`block_options.steps = 0`)");
  check(!src.find(p + "attn_q_norm.weight") && !src.find(p + "attn_k_norm.weight"), ErrorCode::UnsupportedConversion,
        "block-output matching does not cover q/k-normed attention (Qwen3)", "Turn it off (`block_options.steps = 0`)");
  check(model::plain_decoder_block(cfg), ErrorCode::UnsupportedConversion,
        "block-output matching covers the Llama block only, not " + cfg.architecture + "'s",
        "Turn it off (`block_options.steps = 0`)");
  return *arch;
}

cpu::RopeSpec rope_spec(const DecoderBlockConstants& c) {
  cpu::RopeSpec r;
  r.base = c.rope_theta;
  r.pos_scale = c.pos_scale;
  r.neox = c.neox;
  r.freq_factors = c.rope_freqs.empty() ? nullptr : c.rope_freqs.data();
  return r;
}

std::string block_prefix(int layer) { return "blk." + std::to_string(layer) + "."; }

}  // namespace

const std::array<const char*, kBlockLinears>& block_linear_names() {
  static const std::array<const char*, kBlockLinears> names{"attn_q.weight",      "attn_k.weight",   "attn_v.weight",
                                                            "attn_output.weight", "ffn_gate.weight", "ffn_up.weight",
                                                            "ffn_down.weight"};
  return names;
}

void check_block_supported(const model::TensorSource& src, int layer) {
  supported_architecture(src, forward_config(src), block_prefix(layer));
}

DecoderBlockConstants load_block_constants(const model::TensorSource& src, int layer) {
  const model::ModelConfig cfg = forward_config(src);
  const std::string p = block_prefix(layer);
  const model::ArchitectureInfo& arch = supported_architecture(src, cfg, p);
  DecoderBlockConstants c;
  c.hidden = cfg.hidden_size;
  c.heads = cfg.num_heads;
  c.kv_heads = cfg.num_kv_heads;
  c.head_dim = cfg.head_dim;
  c.ff = cfg.intermediate_size;
  c.eps = cfg.rms_norm_eps;
  c.rope_theta = cfg.rope_theta;
  c.pos_scale = cfg.rope_scaling_type == "linear" ? 1.0 / cfg.rope_scaling_factor : 1.0;
  c.neox = !arch.permute_qk;
  c.rope_freqs = read_or_empty(src, "rope_freqs.weight");
  c.attn_norm = read_or_empty(src, p + "attn_norm.weight");
  c.ffn_norm = read_or_empty(src, p + "ffn_norm.weight");
  check(static_cast<int64_t>(c.attn_norm.size()) == c.hidden && static_cast<int64_t>(c.ffn_norm.size()) == c.hidden,
        ErrorCode::ValidationFailed, "block " + std::to_string(layer) + " lacks its norm weights");
  c.bq = read_or_empty(src, p + "attn_q.bias");
  c.bk = read_or_empty(src, p + "attn_k.bias");
  c.bv = read_or_empty(src, p + "attn_v.bias");
  return c;
}

DecoderBlockGrad::DecoderBlockGrad(DecoderBlockConstants c, int64_t batch, int64_t seq)
    : c_(std::move(c)), B_(batch), T_(seq), N_(batch * seq) {
  check(c_.heads % c_.kv_heads == 0, ErrorCode::ValidationFailed, "heads are not a multiple of kv heads");
  pos_.resize(static_cast<size_t>(N_));
  neg_pos_.resize(pos_.size());
  for (int64_t i = 0; i < N_; ++i) {
    pos_[i] = i % T_;
    neg_pos_[i] = -pos_[i];  // rotating by the negative angle inverts RoPE
  }
}

void DecoderBlockGrad::forward(const float* x, const std::array<const float*, kBlockLinears>& w, float* y) {
  const int64_t N = N_, T = T_, d = c_.hidden, hd = c_.head_dim, nh = c_.heads, nkv = c_.kv_heads;
  const int64_t qd = nh * hd, kvd = nkv * hd, ff = c_.ff, group = nh / nkv;
  const cpu::RopeSpec rope = rope_spec(c_);
  x_ = x;
  w_ = w;
  r1_.resize(N);
  r2_.resize(N);
  xn1_.resize(N * d);
  rms_norm_keep(x, c_.attn_norm.data(), N, d, c_.eps, xn1_.data(), r1_.data());
  q_.resize(N * qd);
  k_.resize(N * kvd);
  v_.resize(N * kvd);
  linear(xn1_.data(), N, d, w[kQ], qd, c_.bq, q_.data());
  linear(xn1_.data(), N, d, w[kK], kvd, c_.bk, k_.data());
  linear(xn1_.data(), N, d, w[kV], kvd, c_.bv, v_.data());
  cpu::rope(q_.data(), N, nh, hd, pos_.data(), rope);
  cpu::rope(k_.data(), N, nkv, hd, pos_.data(), rope);

  // Attention per (sequence, head) with full T x T probability matrices (kept for backward).
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  p_.assign(static_cast<size_t>(B_ * nh * T * T), 0.0f);
  o_.resize(N * qd);
  for (int64_t s = 0; s < B_; ++s)
    for (int64_t h = 0; h < nh; ++h) {
      const float* q = q_.data() + s * T * qd + h * hd;
      const float* k = k_.data() + s * T * kvd + (h / group) * hd;
      const float* v = v_.data() + s * T * kvd + (h / group) * hd;
      float* p = p_.data() + (s * nh + h) * T * T;
      gemm(false, true, T, T, hd, scale, q, qd, k, kvd, 0.0f, p, T);
      for (int64_t t = 0; t < T; ++t) {
        float* row = p + t * T;
        const float mx = *std::max_element(row, row + t + 1);
        double sum = 0;
        for (int64_t j = 0; j <= t; ++j) sum += row[j] = std::exp(row[j] - mx);
        const auto inv = static_cast<float>(1.0 / sum);
        for (int64_t j = 0; j <= t; ++j) row[j] *= inv;
        std::fill(row + t + 1, row + T, 0.0f);
      }
      gemm(false, false, T, hd, T, 1.0f, p, T, v, kvd, 0.0f, o_.data() + s * T * qd + h * hd, qd);
    }

  a_.resize(N * d);
  linear(o_.data(), N, qd, w[kO], d, {}, a_.data());
  for (int64_t i = 0; i < N * d; ++i) a_[i] += x[i];
  xn2_.resize(N * d);
  rms_norm_keep(a_.data(), c_.ffn_norm.data(), N, d, c_.eps, xn2_.data(), r2_.data());
  g_.resize(N * ff);
  u_.resize(N * ff);
  s_.resize(N * ff);
  linear(xn2_.data(), N, d, w[kGate], ff, {}, g_.data());
  linear(xn2_.data(), N, d, w[kUp], ff, {}, u_.data());
  cpu::silu_mul(g_.data(), u_.data(), s_.data(), N * ff);
  y_.resize(N * d);
  linear(s_.data(), N, ff, w[kDown], d, {}, y_.data());
  for (int64_t i = 0; i < N * d; ++i) y_[i] += a_[i];
  if (y) std::copy(y_.begin(), y_.end(), y);
}

double DecoderBlockGrad::backward(const float* target, std::array<std::vector<float>, kBlockLinears>* dw) {
  const int64_t N = N_, T = T_, d = c_.hidden, hd = c_.head_dim, nh = c_.heads, nkv = c_.kv_heads;
  const int64_t qd = nh * hd, kvd = nkv * hd, ff = c_.ff, group = nh / nkv;
  double num = 0, den = 0;
  for (int64_t i = 0; i < N * d; ++i) {
    num += double(y_[i] - target[i]) * (y_[i] - target[i]);
    den += double(target[i] - x_[i]) * (target[i] - x_[i]);
  }
  den = std::max(den, 1e-30);
  if (!dw) return num / den;
  auto& dW = *dw;
  const int64_t outs[kBlockLinears] = {qd, kvd, kvd, d, ff, ff, d};
  const int64_t ins[kBlockLinears] = {d, d, d, qd, d, d, ff};
  for (int i = 0; i < kBlockLinears; ++i) dW[i].resize(static_cast<size_t>(outs[i] * ins[i]));

  std::vector<float> dy(static_cast<size_t>(N * d));
  const auto two = static_cast<float>(2.0 / den);
  for (int64_t i = 0; i < N * d; ++i) dy[i] = two * (y_[i] - target[i]);

  // MLP: y = a + s Wd^T, s = silu(g) u.
  mm(true, false, d, ff, N, dy.data(), s_.data(), dW[kDown].data());
  std::vector<float> ds(static_cast<size_t>(N * ff)), du(ds.size());
  mm(false, false, N, ff, d, dy.data(), w_[kDown], ds.data());
  for (int64_t i = 0; i < N * ff; ++i) {
    const float g = g_[i], sig = 1.0f / (1.0f + std::exp(-g));
    du[i] = ds[i] * g * sig;
    ds[i] = ds[i] * u_[i] * sig * (1.0f + g * (1.0f - sig));  // now dg
  }
  mm(true, false, ff, d, N, ds.data(), xn2_.data(), dW[kGate].data());
  mm(true, false, ff, d, N, du.data(), xn2_.data(), dW[kUp].data());
  std::vector<float> dxn(static_cast<size_t>(N * d));
  mm(false, false, N, d, ff, ds.data(), w_[kGate], dxn.data());
  mm(false, false, N, d, ff, du.data(), w_[kUp], dxn.data(), true);
  std::vector<float>& da = dy;  // da = dy + through the FFN norm
  rms_norm_backward(a_.data(), r2_.data(), c_.ffn_norm.data(), dxn.data(), N, d, da.data());

  // Attention output projection: a = x + o Wo^T.
  mm(true, false, d, qd, N, da.data(), o_.data(), dW[kO].data());
  std::vector<float> dout(static_cast<size_t>(N * qd));
  mm(false, false, N, qd, d, da.data(), w_[kO], dout.data());

  // Softmax attention: o = P v, P = softmax(scale q k^T) (causal).
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> dq(static_cast<size_t>(N * qd)), dk(static_cast<size_t>(N * kvd), 0.0f), dv(dk.size(), 0.0f);
  std::vector<float> dp(static_cast<size_t>(T * T));
  for (int64_t s = 0; s < B_; ++s)
    for (int64_t h = 0; h < nh; ++h) {
      const int64_t qo = s * T * qd + h * hd, ko = s * T * kvd + (h / group) * hd;
      const float* p = p_.data() + (s * nh + h) * T * T;
      gemm(false, true, T, T, hd, 1.0f, dout.data() + qo, qd, v_.data() + ko, kvd, 0.0f, dp.data(), T);  // dP = dO V^T
      gemm(true, false, T, hd, T, 1.0f, p, T, dout.data() + qo, qd, 1.0f, dv.data() + ko, kvd);          // dV += P^T dO
      for (int64_t t = 0; t < T; ++t) {
        const float* pr = p + t * T;
        float* dr = dp.data() + t * T;
        double dot = 0;
        for (int64_t j = 0; j <= t; ++j) dot += double(pr[j]) * dr[j];
        for (int64_t j = 0; j < T; ++j) dr[j] = pr[j] * (dr[j] - static_cast<float>(dot));  // dS (zero above t)
      }
      gemm(false, false, T, hd, T, scale, dp.data(), T, k_.data() + ko, kvd, 0.0f, dq.data() + qo, qd);  // dQ
      gemm(true, false, T, hd, T, scale, dp.data(), T, q_.data() + qo, qd, 1.0f, dk.data() + ko, kvd);   // dK +=
    }
  const cpu::RopeSpec rope = rope_spec(c_);
  cpu::rope(dq.data(), N, nh, hd, neg_pos_.data(), rope);
  cpu::rope(dk.data(), N, nkv, hd, neg_pos_.data(), rope);
  mm(true, false, qd, d, N, dq.data(), xn1_.data(), dW[kQ].data());
  mm(true, false, kvd, d, N, dk.data(), xn1_.data(), dW[kK].data());
  mm(true, false, kvd, d, N, dv.data(), xn1_.data(), dW[kV].data());
  return num / den;
}

}  // namespace libquant::eval
