// Plugin kernels: the LittleBit packed-sign product and GGUF row quantization
// (Q8_0, bit-exact with libquant's CPU reference: IEEE division and products,
// roundf half away from zero, round-to-nearest-even f16 scale).
#include <cuda_fp16.h>

#include "context.hpp"
#include "libquant/backend/cuda_plugin_abi.h"
#include "ops.hpp"

namespace lqcuda {
namespace {

constexpr int kWarp = 32;

// One warp per (row of S, token): lanes stride over the columns (coalesced x
// reads), each takes its sign bit from the row's packed words, then a warp sum.
__global__ void sign_gemm_kernel(const uint64_t* bits, int64_t rows, int64_t cols, int64_t wpr, const float* x,
                                 int64_t tokens, float* y) {
  const int64_t warp = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (warp >= rows * tokens) return;
  const int64_t r = warp % rows, t = warp / rows;
  const uint64_t* row = bits + r * wpr;
  const float* xt = x + t * cols;
  float acc = 0.0f;
  for (int64_t c = lane; c < cols; c += kWarp) {
    const bool neg = (row[c >> 6] >> (c & 63)) & 1u;
    acc += neg ? -xt[c] : xt[c];
  }
  for (int off = kWarp / 2; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
  if (lane == 0) y[t * rows + r] = acc;
}

struct BlockQ8_0 {
  __half d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block layout");

// One thread per 32-value block.
__global__ void quantize_q8_0_kernel(const float* x, BlockQ8_0* y, int64_t blocks) {
  const int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (b >= blocks) return;
  const float* xb = x + b * 32;
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = fmaxf(amax, fabsf(xb[j]));
  const float d = __fdiv_rn(amax, 127.0f);
  const float id = d != 0.0f ? __fdiv_rn(1.0f, d) : 0.0f;
  BlockQ8_0 out;
  out.d = __float2half_rn(d);
  for (int j = 0; j < 32; ++j) out.qs[j] = static_cast<int8_t>(static_cast<int>(roundf(__fmul_rn(xb[j], id))));
  y[b] = out;
}

constexpr int kGgmlQ8_0 = 8;

}  // namespace

void launch_sign_gemm(const uint64_t* bits, int64_t rows, int64_t cols, int64_t wpr, const float* x, int64_t tokens,
                      float* y, cudaStream_t stream) {
  const int64_t threads = rows * tokens * kWarp;
  sign_gemm_kernel<<<static_cast<unsigned>((threads + 255) / 256), 256, 0, stream>>>(bits, rows, cols, wpr, x, tokens,
                                                                                     y);
}

int sign_gemm(const uint64_t* bits, int64_t rows, int64_t cols, int64_t wpr, const float* x, int64_t tokens, float* y) {
  return guarded([&] {
    DeviceBuffer<uint64_t> db(static_cast<size_t>(rows * wpr));
    DeviceBuffer<float> dx(static_cast<size_t>(tokens * cols)), dy(static_cast<size_t>(tokens * rows));
    db.upload(bits);
    dx.upload(x);
    launch_sign_gemm(db.get(), rows, cols, wpr, dx.get(), tokens, dy.get(), ctx().stream);
    check_cuda(cudaGetLastError(), "sign_gemm_kernel");
    dy.download(y);
    return 0;
  });
}

int quantize_rows(int type, const float* src, void* dst, int64_t rows, int64_t cols, const float* importance) {
  // Q8_0 has no importance-weighted variant; other types stay on the CPU for now.
  if (type != kGgmlQ8_0 || cols % 32 != 0) return LQ_CUDA_UNSUPPORTED;
  (void)importance;
  return guarded([&] {
    const int64_t blocks = rows * cols / 32;
    DeviceBuffer<float> dx(static_cast<size_t>(rows * cols));
    DeviceBuffer<BlockQ8_0> dy(static_cast<size_t>(blocks));
    dx.upload(src);
    quantize_q8_0_kernel<<<static_cast<unsigned>((blocks + 127) / 128), 128, 0, ctx().stream>>>(dx.get(), dy.get(),
                                                                                                blocks);
    check_cuda(cudaGetLastError(), "quantize_q8_0_kernel");
    dy.download(static_cast<BlockQ8_0*>(dst));
    return 0;
  });
}

}  // namespace lqcuda
