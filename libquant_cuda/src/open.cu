// lq_cuda_open: selects the device, creates the calling thread's stream and
// library handles (other threads get theirs on first use), and hands libquant
// the function table.
#include <cstring>

#include "context.hpp"
#include "libquant/backend/cuda_plugin_abi.h"
#include "ops.hpp"

extern "C" __attribute__((visibility("default"))) int lq_cuda_open(int device, char* name, size_t name_len,
                                                                   LqCudaTable* table) {
  return lqcuda::guarded([&] {
    lqcuda::select_device(device);
    cudaDeviceProp prop{};
    lqcuda::check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    if (name && name_len) {
      std::strncpy(name, prop.name, name_len);
      name[name_len - 1] = '\0';
    }
    table->gemm_f32 = lqcuda::gemm_f32;
    table->gemm_half_nt = lqcuda::gemm_half_nt;
    table->gemm_i8_nt = lqcuda::gemm_i8_nt;
    table->accumulate_xtx = lqcuda::accumulate_xtx;
    table->svd_exact = lqcuda::svd_exact;
    table->svd_randomized = lqcuda::svd_randomized;
    table->cholesky = lqcuda::cholesky;
    table->symmetric_eigen = lqcuda::symmetric_eigen;
    table->sign_gemm = lqcuda::sign_gemm;
    table->quantize_rows = lqcuda::quantize_rows;
    return 0;
  });
}
