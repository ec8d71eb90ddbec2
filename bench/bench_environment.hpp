#pragma once
// The benches' settings from the environment (libquant reads none itself):
// LLM_QUANTIZE_DEVICE (auto | cpu | cuda) and LLM_QUANTIZE_CUDA_PLUGIN pick the
// backend, LLM_QUANTIZE_SVD_PRECISION (float32 | float64) the SVD precision.
#include <cstdlib>
#include <string>

#include "libquant/backend/backend.hpp"
#include "libquant/cpu/truncated_svd.hpp"

namespace bench {

inline const char* setting(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

// Applies the device settings once per process.
inline void use_device_from_environment() {
  static const bool applied = [] {
    if (const char* plugin = setting("LLM_QUANTIZE_CUDA_PLUGIN")) libquant::backend::set_cuda_plugin_path(plugin);
    if (const char* d = setting("LLM_QUANTIZE_DEVICE"))
      libquant::backend::use_device(libquant::backend::parse_device(d));
    return true;
  }();
  (void)applied;
}

inline libquant::cpu::SvdOptions svd_options_from_environment() {
  libquant::cpu::SvdOptions o;
  if (const char* p = setting("LLM_QUANTIZE_SVD_PRECISION")) o.double_precision = std::string(p) != "float32";
  return o;
}

}  // namespace bench
