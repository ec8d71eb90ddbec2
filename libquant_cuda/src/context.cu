#include "context.hpp"

#include <atomic>
#include <cstring>
#include <memory>

#include "libquant/backend/cuda_plugin_abi.h"

namespace lqcuda {
namespace {
thread_local std::string g_error;
std::atomic<int> g_device{-1};

void create(Context& c, int device) {
  check_cuda(cudaSetDevice(device), "cudaSetDevice");  // the current device is per host thread
  check_cuda(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check_blas(cublasCreate(&c.blas), "cublasCreate");
  check_blas(cublasSetStream(c.blas, c.stream), "cublasSetStream");
  // f32 GEMMs stay f32 (no TF32): results must match the CPU's within f32 tolerances.
  check_blas(cublasSetMathMode(c.blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  check_solver(cusolverDnCreate(&c.solver), "cusolverDnCreate");
  check_solver(cusolverDnSetStream(c.solver, c.stream), "cusolverDnSetStream");
  c.device = device;
}
}  // namespace

Context::~Context() {
  // Return codes ignored: at process exit the runtime may already be gone.
  if (solver) cusolverDnDestroy(solver);
  if (blas) cublasDestroy(blas);
  if (stream) cudaStreamDestroy(stream);
}

void select_device(int device) {
  g_device = device;
  ctx();  // create the opening thread's context now, so that open reports failures
}

Context& ctx() {
  thread_local std::unique_ptr<Context> c;
  const int device = g_device.load();
  if (!c || c->device != device) {
    if (device < 0) {
      set_error("the CUDA plugin was used before lq_cuda_open");
      throw Failure{-1};
    }
    c.reset();
    auto fresh = std::make_unique<Context>();
    create(*fresh, device);  // on failure `fresh` frees what was created
    c = std::move(fresh);
  }
  return *c;
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
