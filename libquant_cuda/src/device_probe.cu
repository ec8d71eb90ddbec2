// Device discovery for the plugin: never fails hard when no GPU or driver is
// present, so the CPU build path is unaffected.
#include <cuda_runtime.h>

#include <cstring>

#include "libquant/cuda/cuda_plugin.h"

extern "C" int libquant_cuda_api_version(void) { return LIBQUANT_CUDA_API_VERSION; }

extern "C" int libquant_cuda_device_count(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

extern "C" int libquant_cuda_device_name(int index, char* buf, size_t len) {
  cudaDeviceProp prop{};
  const cudaError_t err = cudaGetDeviceProperties(&prop, index);
  if (err != cudaSuccess) return -static_cast<int>(err);
  std::strncpy(buf, prop.name, len);
  if (len) buf[len - 1] = '\0';
  return 0;
}
