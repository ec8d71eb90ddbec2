#include "context.hpp"

#include <cstring>

#include "libquant/backend/cuda_plugin_abi.h"

namespace lqcuda {
namespace {
thread_local std::string g_error;
}

Context& ctx() {
  static Context c;
  return c;
}

void set_error(const std::string& what) { g_error = what; }

void check_cuda(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  set_error(std::string(what) + ": " + cudaGetErrorString(e));
  cudaGetLastError();
  throw Failure{-static_cast<int>(e) - 1};
}

void check_blas(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  set_error(std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(s)));
  throw Failure{s == CUBLAS_STATUS_NOT_SUPPORTED ? LQ_CUDA_UNSUPPORTED : -2000 - static_cast<int>(s)};
}

void check_solver(cusolverStatus_t s, const char* what) {
  if (s == CUSOLVER_STATUS_SUCCESS) return;
  set_error(std::string(what) + ": cuSOLVER status " + std::to_string(static_cast<int>(s)));
  throw Failure{-3000 - static_cast<int>(s)};
}

}  // namespace lqcuda

extern "C" {

__attribute__((visibility("default"))) int lq_cuda_abi_version(void) { return LQ_CUDA_ABI_VERSION; }

__attribute__((visibility("default"))) int lq_cuda_device_count(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

__attribute__((visibility("default"))) const char* lq_cuda_last_error(void) { return lqcuda::g_error.c_str(); }

}  // extern "C"
