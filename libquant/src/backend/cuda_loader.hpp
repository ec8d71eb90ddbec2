#pragma once
// Loads the libquant_cuda plugin once per process and wraps its C table as a
// Backend. Nothing CUDA is linked into libquant; a missing plugin, an ABI
// mismatch or no visible GPU leaves `backend` null and says why.
#include <filesystem>
#include <memory>
#include <string>

#include "libquant/backend/backend.hpp"

namespace libquant::backend {

struct CudaLoad {
  std::unique_ptr<Backend> backend;  // null when unavailable
  std::string reason;                // why not ("" when loaded)
};

// The plugin file load_cuda_backend opens (empty: look it up). Throws
// Error(InvalidArgument) when the plugin is already loaded from elsewhere.
void choose_cuda_plugin(const std::filesystem::path& plugin);
const CudaLoad& load_cuda_backend();

}  // namespace libquant::backend
