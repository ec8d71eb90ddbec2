#pragma once
// CPU building blocks of the forward pass. GEMMs go to BLAS; the rest are
// plain loops (the compiler vectorises them) with double accumulation where
// it matters for accuracy (norm sums, softmax denominators).
#include <cstddef>
#include <cmath>
#include <cstdint>

namespace libquant::cpu {

void set_blas_threads(unsigned n) noexcept;

// BLAS on one thread while it lives (for code that calls BLAS from each of a
// pool's threads, where BLAS's own threads would only spin), `restore` after.
class SingleThreadedBlas {
 public:
  explicit SingleThreadedBlas(unsigned restore) noexcept : restore_(restore) { set_blas_threads(1); }
  ~SingleThreadedBlas() { set_blas_threads(restore_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  unsigned restore_;
};

// Y[n, out] = X[n, in] * W[out, in]^T (+ bias[out] when not null).
void linear(const float* x, int64_t n, int64_t in, const float* w, int64_t out, const float* bias, float* y);

// Row-wise RMSNorm of x[n, d] into y (may alias): y = x / sqrt(mean(x^2) + eps) * w.
void rms_norm(const float* x, const float* w, int64_t n, int64_t d, double eps, float* y);

// How a rotary embedding turns: the first n_rot dimensions of each head
// rotate (0: all), in pairs (i, i + n_rot/2) when neox, else (2i, 2i+1), by
// angle position * pos_scale * base^(-2i/n_rot) / freq_factors[i]
// (freq_factors: n_rot/2 values or null; llama3 scaling, LongRoPE); the
// rotated values are multiplied by mscale (LongRoPE's attention factor).
struct RopeSpec {
  double base = 10000.0;
  double pos_scale = 1.0;
  bool neox = false;
  const float* freq_factors = nullptr;
  int64_t n_rot = 0;
  double mscale = 1.0;
};

// Row-wise LayerNorm without bias of x[n, d] into y (may alias):
// y = (x - mean(x)) / sqrt(var(x) + eps) * w (Command-R).
void layer_norm(const float* x, const float* w, int64_t n, int64_t d, double eps, float* y);

// Rotary embedding in place on x[n_tokens, n_heads * head_dim] whose token t
// has position positions[t]; dimensions past n_rot pass through.
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int64_t* positions,
          const RopeSpec& spec);

// Causal attention for one sequence and one head: q, k, v are [T, hd] views
// with row strides; out [T, hd] with stride ldo. scratch holds
// attention_scratch_floats(T) floats. Queries go in tiles through two GEMMs
// (scores, then probabilities times values), so BLAS does the arithmetic;
// callers running heads in parallel hold SingleThreadedBlas.
// scale multiplies q.k (0: 1/sqrt(hd)); window > 0 lets position t see only
// positions t - window + 1 .. t (local attention); softcap > 0 maps each
// score s to softcap * tanh(s / softcap) before the softmax (Gemma 2).
size_t attention_scratch_floats(int64_t T);
void causal_attention_head(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv,
                           int64_t T, int64_t hd, float* out, int64_t ldo, float* scratch, float scale = 0.0f,
                           int64_t window = 0, float softcap = 0.0f);

// Rounds every value to the nearest f16 (in place).
void round_to_f16(float* x, int64_t n);

// softplus with torch's and ggml's threshold (x itself above 20).
inline float softplus(float x) { return x <= 20.0f ? std::log1p(std::exp(x)) : x; }

// y[T, C] = silu(conv(x) + bias): a causal depthwise convolution of `taps` taps over T tokens (zeros before
// the first), one filter w[c, taps] per channel, the last tap on the current token; x rows are `stride`
// apart (the channels may sit inside wider rows); bias may be null. The input of the state-space and
// DeltaNet mixers (Mamba-2, Qwen3.5).
void causal_conv1d_silu(const float* x, int64_t stride, int64_t T, int64_t C, const float* w, int64_t taps,
                        const float* bias, float* y);

// out = silu(g) * u, element-wise over n values (out may alias g or u).
void silu_mul(const float* g, const float* u, float* out, int64_t n);
// out = gelu(g) * u with GELU's tanh approximation (GeGLU; out may alias g).
void gelu_tanh_mul(const float* g, const float* u, float* out, int64_t n);

}  // namespace libquant::cpu
