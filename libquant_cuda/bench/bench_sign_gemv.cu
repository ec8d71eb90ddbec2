// Packed LittleBit GEMV against cuBLAS fp16 GEMV on the GPU, device-resident
// (no host copies in the timed loop), CUDA events over many iterations.
// A 0.1 BPW layer of out x in (default 4096 x 11008, rank 128, 2 paths):
//   per path: a = x * g; b = S_V a; b *= l; d = S_U b; y += d * h
// vs y = W x with W in f16 (cublasGemmEx, f32 accumulation).
// Usage: bench_sign_gemv [out in rank iterations]
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "../src/ops.hpp"

namespace {

void ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

__global__ void scale(const float* x, const float* s, float* y, int64_t n, int accumulate) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = accumulate ? y[i] + x[i] * s[i] : x[i] * s[i];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t out = argc > 1 ? std::atoll(argv[1]) : 4096, in = argc > 2 ? std::atoll(argv[2]) : 11008;
  const int64_t rank = argc > 3 ? std::atoll(argv[3]) : 128;
  const int iters = argc > 4 ? std::atoi(argv[4]) : 2000;
  int n_dev = 0;
  if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
    std::printf("SKIPPED: no CUDA device visible\n");
    return 77;
  }
  std::mt19937_64 rng(1);
  const int64_t wpr_v = (in + 63) / 64, wpr_u = (rank + 63) / 64;
  std::vector<uint64_t> sv(static_cast<size_t>(rank * wpr_v)), su(static_cast<size_t>(out * wpr_u));
  for (auto& w : sv) w = rng();
  for (auto& w : su) w = rng();
  std::vector<float> x(static_cast<size_t>(in), 0.5f), g(static_cast<size_t>(in), 1.0f),
      l(static_cast<size_t>(rank), 1.0f), h(static_cast<size_t>(out), 1.0f);
  std::vector<__half> w16(static_cast<size_t>(out * in), __float2half(0.01f)),
      x16(static_cast<size_t>(in), __float2half(0.5f));

  uint64_t *d_sv, *d_su;
  float *d_x, *d_g, *d_l, *d_h, *d_a, *d_b, *d_d, *d_y;
  __half *d_w16, *d_x16;
  ok(cudaMalloc(&d_sv, sv.size() * 8), "malloc");
  ok(cudaMalloc(&d_su, su.size() * 8), "malloc");
  for (float** p : {&d_x, &d_g, &d_a}) ok(cudaMalloc(p, in * 4), "malloc");
  for (float** p : {&d_l, &d_b}) ok(cudaMalloc(p, rank * 4), "malloc");
  for (float** p : {&d_h, &d_d, &d_y}) ok(cudaMalloc(p, out * 4), "malloc");
  ok(cudaMalloc(&d_w16, w16.size() * 2), "malloc");
  ok(cudaMalloc(&d_x16, x16.size() * 2), "malloc");
  ok(cudaMemcpy(d_sv, sv.data(), sv.size() * 8, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_su, su.data(), su.size() * 8, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_x, x.data(), in * 4, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_g, g.data(), in * 4, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_l, l.data(), rank * 4, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_h, h.data(), out * 4, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_w16, w16.data(), w16.size() * 2, cudaMemcpyHostToDevice), "copy");
  ok(cudaMemcpy(d_x16, x16.data(), x16.size() * 2, cudaMemcpyHostToDevice), "copy");
  cudaStream_t st;
  ok(cudaStreamCreate(&st), "stream");
  cublasHandle_t blas;
  cublasCreate(&blas);
  cublasSetStream(blas, st);

  const auto littlebit = [&] {
    for (int path = 0; path < 2; ++path) {
      scale<<<static_cast<unsigned>((in + 255) / 256), 256, 0, st>>>(d_x, d_g, d_a, in, 0);
      lqcuda::launch_sign_gemm(d_sv, rank, in, wpr_v, d_a, 1, d_b, st);
      scale<<<static_cast<unsigned>((rank + 255) / 256), 256, 0, st>>>(d_b, d_l, d_b, rank, 0);
      lqcuda::launch_sign_gemm(d_su, out, rank, wpr_u, d_b, 1, d_d, st);
      scale<<<static_cast<unsigned>((out + 255) / 256), 256, 0, st>>>(d_d, d_h, d_y, out, path);
    }
  };
  const float one = 1.0f, zero = 0.0f;
  const auto fp16 = [&] {
    // y[out] = W[out, in] x: column-major W^T [in, out], op T.
    cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), 1, static_cast<int>(in), &one, d_w16,
                 CUDA_R_16F, static_cast<int>(in), d_x16, CUDA_R_16F, static_cast<int>(in), &zero, d_y, CUDA_R_32F,
                 static_cast<int>(out), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  const auto time = [&](auto&& fn) {
    for (int i = 0; i < 20; ++i) fn();
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventRecord(a, st);
    for (int i = 0; i < iters; ++i) fn();
    cudaEventRecord(b, st);
    ok(cudaEventSynchronize(b), "sync");
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    return 1000.0 * ms / iters;  // microseconds per call
  };
  const double t_lb = time(littlebit), t_16 = time(fp16);
  const double bpw = 2.0 * (rank * (out + in + 16) + 16.0 * (out + in)) / (double(out) * in);
  std::printf("out %lld in %lld rank %lld (%.3f bpw, 2 paths)\n", static_cast<long long>(out),
              static_cast<long long>(in), static_cast<long long>(rank), bpw);
  std::printf("fp16 GEMV (cuBLAS)     %9.2f us\n", t_16);
  std::printf("LittleBit packed GEMV  %9.2f us   %.2fx faster than fp16\n", t_lb, t_16 / t_lb);
  return 0;
}
