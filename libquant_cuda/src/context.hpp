#pragma once
// The plugin's state: the device chosen by lq_cuda_open (per process), and per
// calling thread a stream with its own cuBLAS and cuSOLVER handles (neither
// library allows one handle to be used from two threads at once); device
// buffers; error reporting through lq_cuda_last_error() (per thread too).
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace lqcuda {

struct Context {
  int device = -1;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cusolverDnHandle_t solver = nullptr;
  ~Context();
};

// Selects the device for every thread (lq_cuda_open); throws Failure on error.
void select_device(int device);
// This thread's context on the selected device, created on first use.
Context& ctx();
void set_error(const std::string& what);

// Thrown inside the plugin, turned into a negative return code at the C boundary.
struct Failure {
  int code;
};

void check_cuda(cudaError_t e, const char* what);
void check_blas(cublasStatus_t s, const char* what);
void check_solver(cusolverStatus_t s, const char* what);

// A device allocation of n elements of T, freed on scope exit.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n) check_cuda(cudaMalloc(&p_, n * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const T* host) {
    check_cuda(cudaMemcpyAsync(p_, host, n_ * sizeof(T), cudaMemcpyHostToDevice, ctx().stream), "upload");
  }
  void download(T* host) const {
    check_cuda(cudaMemcpyAsync(host, p_, n_ * sizeof(T), cudaMemcpyDeviceToHost, ctx().stream), "download");
    check_cuda(cudaStreamSynchronize(ctx().stream), "synchronize");
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

// Runs fn, mapping failures to the C return codes of the plugin ABI.
template <class Fn>
int guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const Failure& f) {
    return f.code;
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
}

}  // namespace lqcuda
