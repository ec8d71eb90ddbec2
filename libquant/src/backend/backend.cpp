#include "libquant/backend/backend.hpp"

#include <atomic>
#include <mutex>

#include "cuda_loader.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"

namespace libquant::backend {

Backend::~Backend() = default;

Device parse_device(std::string_view name) {
  if (name == "auto") return Device::Auto;
  if (name == "cpu") return Device::Cpu;
  if (name == "cuda") return Device::Cuda;
  throw Error(ErrorCode::InvalidArgument, "unknown device '" + std::string(name) + "'", "Use auto, cpu or cuda");
}

namespace {
// Written under g_mutex (use_device), read without it by every op: atomic.
std::atomic<Backend*> g_active{nullptr};
std::mutex g_mutex;
}  // namespace

Backend& active() {
  Backend* b = g_active;
  return b ? *b : cpu_backend();
}

std::string cuda_unavailable_reason() { return load_cuda_backend().reason; }

void set_cuda_plugin_path(const std::filesystem::path& plugin) { choose_cuda_plugin(plugin); }

Backend& use_device(Device device) {
  std::lock_guard lock(g_mutex);
  if (device == Device::Cpu) {
    g_active = &cpu_backend();
  } else {
    const CudaLoad& cuda = load_cuda_backend();
    if (cuda.backend) {
      g_active = cuda.backend.get();
    } else if (device == Device::Cuda) {
      throw Error(ErrorCode::UnsupportedConversion, "the CUDA backend is not available: " + cuda.reason,
                  "Use the CPU (`Device::Cpu`, or `Device::Auto`), or install libquant_cuda and an NVIDIA driver");
    } else {
      g_active = &cpu_backend();
      log_verbose("device auto: using the CPU (" + cuda.reason + ")");
    }
  }
  Backend* chosen = g_active.load();
  log_verbose("compute backend: " + chosen->name());
  return *chosen;
}

}  // namespace libquant::backend
