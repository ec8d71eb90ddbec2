#pragma once
// The plugin's implementations of the LqCudaTable entries (same signatures).
#include <cuda_runtime.h>

#include <cstdint>

namespace lqcuda {

int gemm_f32(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda, const float* b,
             int64_t ldb, float beta, float* c, int64_t ldc);
int gemm_half_nt(int bf16, int64_t M, int64_t N, int64_t K, const uint16_t* a, const uint16_t* b, float* c);
int gemm_i8_nt(int64_t M, int64_t N, int64_t K, const int8_t* a, const int8_t* b, int32_t* c);
int accumulate_xtx(const float* x, int64_t rows, int64_t n, double* h);
int svd_exact(const float* a, int64_t m, int64_t n, int64_t k, int f64, float* u, float* s, float* v);
int svd_randomized(const float* a, int64_t m, int64_t n, int64_t k, const double* omega, int64_t kp,
                   int power_iterations, int f64, float* u, float* s, float* v);
int cholesky(double* a, int64_t n);
int symmetric_eigen(double* a, int64_t n, double* w);
int sign_gemm(const uint64_t* bits, int64_t rows, int64_t cols, int64_t words_per_row, const float* x, int64_t tokens,
              float* y);
int quantize_rows(int type, const float* src, void* dst, int64_t rows, int64_t cols, const float* importance);

// Device-side y = x S^T (device pointers, on `stream`), for benchmarks and fused callers.
void launch_sign_gemm(const uint64_t* bits, int64_t rows, int64_t cols, int64_t words_per_row, const float* x,
                      int64_t tokens, float* y, cudaStream_t stream);

}  // namespace lqcuda
