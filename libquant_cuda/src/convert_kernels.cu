// f32 -> f16 conversion on the GPU: __float2half_rn rounds to nearest even,
// the same rule as libquant::f32_to_f16, so results are bit-identical.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "libquant/cuda/cuda_plugin.h"

namespace {
__global__ void f32_to_f16_kernel(const float* __restrict__ src, __half* __restrict__ dst, size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2half_rn(src[i]);
}
}  // namespace

extern "C" int libquant_cuda_f32_to_f16(const float* src, uint16_t* dst, size_t n) {
  float* d_src = nullptr;
  __half* d_dst = nullptr;
  cudaError_t err = cudaMalloc(&d_src, n * sizeof(float));
  if (err == cudaSuccess) err = cudaMalloc(&d_dst, n * sizeof(__half));
  if (err == cudaSuccess) err = cudaMemcpy(d_src, src, n * sizeof(float), cudaMemcpyHostToDevice);
  if (err == cudaSuccess) {
    const unsigned blocks = static_cast<unsigned>((n + 255) / 256 < 65535 ? (n + 255) / 256 : 65535);
    f32_to_f16_kernel<<<blocks ? blocks : 1, 256>>>(d_src, d_dst, n);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) err = cudaMemcpy(dst, d_dst, n * sizeof(__half), cudaMemcpyDeviceToHost);
  cudaFree(d_src);
  cudaFree(d_dst);
  return err == cudaSuccess ? 0 : -static_cast<int>(err);
}
