#pragma once
// llama.cpp's CPU arithmetic, operation by operation, for results that are
// bit-identical to llama.cpp's (importance matrices that quantize to the same
// bytes as llama-imatrix's). The reference is ggml's x86 build with AVX-512
// and FMA (what GGML_NATIVE gives on current servers): matrix products in
// llamafile's tinyBLAS order (16 lanes of FMA chains, then a fixed reduction
// tree) or ggml's vec_dot where tinyBLAS declines, softmax and SiLU with
// ggml's polynomial exp, RMSNorm with a double sum, RoPE from an iterated
// float theta. Every function here has a scalar definition (std::fma); the
// matrix products, exp and f16 rounding have AVX-512 and AVX2 fast paths with
// the same per-element order, chosen by simd_level() (core/cpu_features.hpp),
// so an AVX2-only machine computes the AVX-512 results at SIMD speed.
#include <cstdint>

namespace libquant {
class ThreadPool;
}

namespace libquant::cpu::ggml {

// C[j * ldc + i] = <A row i, B row j> for i < m, j < n over k values, as
// ggml_compute_forward_mul_mat computes it for F32 weights and activations.
void matmul_f32(const float* A, int64_t lda, int64_t m, const float* B, int64_t ldb, int64_t n, int64_t k, float* C,
                int64_t ldc, ThreadPool& pool);
// F16 weights: pass them widened and the activations through round_to_half
// (llama.cpp converts activations to the weight's dot type; the widening is
// exact, so the f32 kernels give ggml's f16 results).
void round_to_half(float* x, int64_t n);

// ggml_rms_norm followed by ggml_mul with the norm weight.
void rms_norm(const float* x, const float* w, int64_t n, int64_t d, float eps, float* y);

// ggml_rope_ext in place on x[n_tokens, n_heads * head_dim] (no YaRN, mscale 1).
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int64_t* positions, float base,
          float freq_scale, bool neox, const float* freq_factors);

// ggml_silu(g) then ggml_mul with u, rows of `cols` values (out may alias g).
void silu_mul(const float* g, const float* u, float* out, int64_t rows, int64_t cols);

// ggml_soft_max_ext on one row in place: x * scale + mask (mask may be null,
// -INFINITY hides a position), then exp(x - max) / sum.
void soft_max_row(float* x, int64_t n, float scale, const float* mask);

// Causal self-attention of one sequence as llama.cpp evaluates it with its
// default F16 KV cache and no flash attention: q [T, nh*hd] and k, v
// [T, nkv*hd] (after RoPE) go through f16, the cache is padded to a multiple
// of 32 cells, out [T, nh*hd] holds the merged heads.
void attention(const float* q, const float* k, const float* v, int64_t T, int64_t nh, int64_t nkv, int64_t hd,
               float* out, ThreadPool& pool);

// _mm512_reduce_add_ps's order over 16 lanes.
float hsum16(const float* v);
// ggml_v_expf on one value (the definition the SIMD kernels follow).
float vexpf(float x);

}  // namespace libquant::cpu::ggml
