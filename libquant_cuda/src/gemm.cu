// Dense products on cuBLAS. Host matrices are row-major with leading
// dimensions; they are copied into compact device buffers with 2-D copies
// (gaps between rows are neither read nor overwritten), and a row-major
// product C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "context.hpp"
#include "libquant/backend/cuda_plugin_abi.h"
#include "ops.hpp"

namespace lqcuda {
namespace {

template <class T>
void upload_2d(DeviceBuffer<T>& d, const T* host, int64_t rows, int64_t cols, int64_t ld) {
  check_cuda(cudaMemcpy2DAsync(d.get(), cols * sizeof(T), host, ld * sizeof(T), cols * sizeof(T), rows,
                               cudaMemcpyHostToDevice, ctx().stream),
             "upload");
}

template <class T>
void download_2d(const DeviceBuffer<T>& d, T* host, int64_t rows, int64_t cols, int64_t ld) {
  check_cuda(cudaMemcpy2DAsync(host, ld * sizeof(T), d.get(), cols * sizeof(T), cols * sizeof(T), rows,
                               cudaMemcpyDeviceToHost, ctx().stream),
             "download");
  check_cuda(cudaStreamSynchronize(ctx().stream), "synchronize");
}

__global__ void widen_to_double(const float* x, double* y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = x[i];
}

}  // namespace

int gemm_f32(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda, const float* b,
             int64_t ldb, float beta, float* c, int64_t ldc) {
  return guarded([&] {
    const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    DeviceBuffer<float> da(ar * ac), db(br * bc), dc(M * N);
    upload_2d(da, a, ar, ac, lda);
    upload_2d(db, b, br, bc, ldb);
    if (beta != 0.0f) upload_2d(dc, c, M, N, ldc);
    check_blas(cublasSgemm(ctx().blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                           static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha, db.get(),
                           static_cast<int>(bc), da.get(), static_cast<int>(ac), &beta, dc.get(), static_cast<int>(N)),
               "cublasSgemm");
    download_2d(dc, c, M, N, ldc);
    return 0;
  });
}

int gemm_half_nt(int bf16, int64_t M, int64_t N, int64_t K, const uint16_t* a, const uint16_t* b, float* c) {
  return guarded([&] {
    DeviceBuffer<uint16_t> da(M * K), db(N * K);
    DeviceBuffer<float> dc(M * N);
    da.upload(a);
    db.upload(b);
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType t = bf16 ? CUDA_R_16BF : CUDA_R_16F;
    check_blas(
        cublasGemmEx(ctx().blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(M),
                     static_cast<int>(K), &one, db.get(), t, static_cast<int>(K), da.get(), t, static_cast<int>(K),
                     &zero, dc.get(), CUDA_R_32F, static_cast<int>(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx(16-bit)");
    dc.download(c);
    return 0;
  });
}

int gemm_i8_nt(int64_t M, int64_t N, int64_t K, const int8_t* a, const int8_t* b, int32_t* c) {
  // cuBLAS's int8 path wants the "TN" layout and leading dimensions that are multiples of 4.
  if (K % 4 != 0) return LQ_CUDA_UNSUPPORTED;
  return guarded([&] {
    DeviceBuffer<int8_t> da(M * K), db(N * K);
    DeviceBuffer<int32_t> dc(M * N);
    da.upload(a);
    db.upload(b);
    const int32_t one = 1, zero = 0;
    check_blas(cublasGemmEx(ctx().blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(M),
                            static_cast<int>(K), &one, db.get(), CUDA_R_8I, static_cast<int>(K), da.get(), CUDA_R_8I,
                            static_cast<int>(K), &zero, dc.get(), CUDA_R_32I, static_cast<int>(N), CUBLAS_COMPUTE_32I,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx(int8)");
    dc.download(c);
    return 0;
  });
}

int accumulate_xtx(const float* x, int64_t rows, int64_t n, double* h) {
  return guarded([&] {
    DeviceBuffer<float> dx(rows * n);
    DeviceBuffer<double> dxd(rows * n), dh(n * n);
    dx.upload(x);
    const int64_t total = rows * n;
    widen_to_double<<<static_cast<unsigned>((total + 255) / 256), 256, 0, ctx().stream>>>(dx.get(), dxd.get(), total);
    check_cuda(cudaGetLastError(), "widen_to_double");
    dh.upload(h);
    // Row-major x is column-major X' [n, rows]; X' X'^T = x^T x, upper triangle (column-major).
    const double one = 1.0;
    check_blas(cublasDsyrk(ctx().blas, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(rows),
                           &one, dxd.get(), static_cast<int>(n), &one, dh.get(), static_cast<int>(n)),
               "cublasDsyrk");
    dh.download(h);
    // The column-major upper triangle is the row-major lower one: mirror it.
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) h[i * n + j] = h[j * n + i];
    return 0;
  });
}

}  // namespace lqcuda
