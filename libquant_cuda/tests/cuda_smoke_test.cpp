// GPU smoke test: the device f32 -> f16 kernel equals the CPU conversion bit
// for bit. Exits 77 (CTest "skipped") with a message when no GPU is visible.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "libquant/core/half.hpp"
#include "libquant/cuda/cuda_plugin.h"

int main() {
  if (libquant_cuda_api_version() != LIBQUANT_CUDA_API_VERSION) return 1;
  const int n_dev = libquant_cuda_device_count();
  if (n_dev == 0) {
    std::printf("SKIPPED: no CUDA device visible\n");
    return 77;
  }
  char name[256];
  libquant_cuda_device_name(0, name, sizeof name);
  std::printf("device 0: %s\n", name);
  std::mt19937 rng(3);
  std::vector<float> x(1 << 20);
  for (auto& v : x) {
    uint32_t bits = static_cast<uint32_t>(rng());
    std::memcpy(&v, &bits, 4);
  }
  std::vector<uint16_t> gpu(x.size()), cpu(x.size());
  if (libquant_cuda_f32_to_f16(x.data(), gpu.data(), x.size()) != 0) return 1;
  libquant::f32_to_f16(x.data(), cpu.data(), x.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const bool nan = (cpu[i] & 0x7c00) == 0x7c00 && (cpu[i] & 0x3ff);
    if (nan ? !((gpu[i] & 0x7c00) == 0x7c00 && (gpu[i] & 0x3ff)) : gpu[i] != cpu[i]) ++mismatches;
  }
  std::printf("%zu mismatches of %zu\n", mismatches, x.size());
  return mismatches == 0 ? 0 : 1;
}
