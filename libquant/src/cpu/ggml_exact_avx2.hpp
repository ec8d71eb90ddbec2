#pragma once
// AVX2 kernels of ggml_exact.cpp: the same per-element arithmetic as the
// scalar definitions there and the AVX-512 kernels (ggml_exact_avx512.hpp),
// so every machine computes llama.cpp's AVX-512 results bit for bit. An
// AVX-512 register of 16 FMA chains becomes two AVX2 registers of 8; the
// reduction adds their halves in the same order. Call only when
// simd_level() >= SimdLevel::Avx2.
#include <cstdint>

namespace libquant::cpu::ggml::avx2 {

// As avx512::tinyblas_f32: C[j * ldc + i] for i in [i0, i1) (a multiple of 4
// rows), j in [j0, j1), k a multiple of 16.
void tinyblas_f32(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float* C, int64_t ldc,
                  int64_t i0, int64_t i1, int64_t j0, int64_t j1);

// x[i] = f16 rounding of x[i] (round to nearest even), n values.
void round_to_half(float* x, int64_t n);
// y[i] = vexpf(x[i] - sub) for n (a multiple of 8) values.
void exp_minus(const float* x, float sub, float* y, int64_t n);
// out[i] = x[i] / (1 + vexpf(-x[i])) * u[i] for n (a multiple of 8) values.
void silu_mul(const float* x, const float* u, float* out, int64_t n);

}  // namespace libquant::cpu::ggml::avx2
