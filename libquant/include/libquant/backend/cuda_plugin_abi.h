/* The C interface between libquant and its CUDA plugin (libquant_cuda).
 * libquant dlopens the plugin and calls only these entry points, so neither
 * side depends on the other's C++ ABI and a CPU-only install never loads a
 * CUDA library. libquant owns this header; the plugin implements it.
 *
 * Every function returns 0 on success; LQ_CUDA_UNSUPPORTED when the plugin
 * does not implement the request (the caller uses the CPU); another negative
 * value on a CUDA error (lq_cuda_last_error() describes it). All pointers are
 * host memory, matrices row-major unless stated otherwise. */
#ifndef LIBQUANT_BACKEND_CUDA_PLUGIN_ABI_H
#define LIBQUANT_BACKEND_CUDA_PLUGIN_ABI_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LQ_CUDA_ABI_VERSION 2
#define LQ_CUDA_UNSUPPORTED (-1000)
#define LQ_CUDA_NOT_CONVERGED (-1001)

typedef struct LqCudaTable {
  /* c = alpha op(a) op(b) + beta c (op(a) [M, K], op(b) [K, N]). */
  int (*gemm_f32)(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
  /* c[M, N] = a[M, K] b[N, K]^T; bf16 != 0: inputs are bfloat16, else IEEE half; f32 accumulation. */
  int (*gemm_half_nt)(int bf16, int64_t M, int64_t N, int64_t K, const uint16_t* a, const uint16_t* b, float* c);
  /* c[M, N] = a[M, K] b[N, K]^T, int8 inputs, int32 accumulation. */
  int (*gemm_i8_nt)(int64_t M, int64_t N, int64_t K, const int8_t* a, const int8_t* b, int32_t* c);
  /* h[n, n] += x^T x, x [rows, n] f32, h f64 (both triangles). */
  int (*accumulate_xtx)(const float* x, int64_t rows, int64_t n, double* h);
  /* Exact truncated SVD of a[m, n]: u [m, k], s [k] descending, v [n, k]; f64 != 0 computes in double. */
  int (*svd_exact)(const float* a, int64_t m, int64_t n, int64_t k, int f64, float* u, float* s, float* v);
  /* Randomized truncated SVD with the caller's Gaussian sketch omega (column-major [n, kp], kp >= k):
   * Y = A omega, power_iterations rounds of re-orthonormalized A^T / A products, then the SVD of Q^T A. */
  int (*svd_randomized)(const float* a, int64_t m, int64_t n, int64_t k, const double* omega, int64_t kp,
                        int power_iterations, int f64, float* u, float* s, float* v);
  /* Lower Cholesky factor in place (row-major, upper triangle zeroed); LQ_CUDA_NOT_CONVERGED if not SPD. */
  int (*cholesky)(double* a, int64_t n);
  /* Eigenvalues ascending into w, unit eigenvectors into the rows of a. */
  int (*symmetric_eigen)(double* a, int64_t n, double* w);
  /* y[t, rows] = x[t, cols] S^T, S packed one bit per entry (set = -1, LSB first), words_per_row uint64 per row. */
  int (*sign_gemm)(const uint64_t* bits, int64_t rows, int64_t cols, int64_t words_per_row, const float* x,
                   int64_t tokens, float* y);
  /* GGUF rows of ggml type `type` (importance may be null); LQ_CUDA_UNSUPPORTED for types it lacks. */
  int (*quantize_rows)(int type, const float* src, void* dst, int64_t rows, int64_t cols, const float* importance);
} LqCudaTable;

/* The ABI version the plugin was built against (must equal LQ_CUDA_ABI_VERSION). */
typedef int (*LqCudaAbiVersionFn)(void);
/* Number of visible CUDA devices (0 when none or no driver). */
typedef int (*LqCudaDeviceCountFn)(void);
/* Selects `device`, fills its name and the function table. */
typedef int (*LqCudaOpenFn)(int device, char* name, size_t name_len, LqCudaTable* table);
/* Text of the last error on this thread. */
typedef const char* (*LqCudaLastErrorFn)(void);

#define LQ_CUDA_SYMBOL_ABI_VERSION "lq_cuda_abi_version"
#define LQ_CUDA_SYMBOL_DEVICE_COUNT "lq_cuda_device_count"
#define LQ_CUDA_SYMBOL_OPEN "lq_cuda_open"
#define LQ_CUDA_SYMBOL_LAST_ERROR "lq_cuda_last_error"

#ifdef __cplusplus
}
#endif
#endif
