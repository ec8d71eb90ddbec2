// The SmoothQuant job's checkpoint file (jobs/smoothquant_state): any bytes
// either load into values a collector and the quantizer accept or throw
// libquant::Error. The loader reads files, so each input goes through one.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "jobs/smoothquant_state.hpp"
#include "libquant/core/error.hpp"

namespace {
const std::filesystem::path& scratch_file() {
  static const std::filesystem::path p = std::filesystem::temp_directory_path() /
                                         ("fuzz-smoothquant-state-" + std::to_string(::getpid()) + ".safetensors");
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream f(scratch_file(), std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  libquant::methods::GroupPlan g{{0, "blk.0.attn_norm.weight", {"blk.0.attn_q.weight"}}, {}, {}, -1, -1};
  try {
    auto saved = libquant::jobs::smoothquant_state::load(scratch_file(), {g});
    libquant::calib::ChannelMaxCollector c({"blk.0.attn_q.weight"}, 2);
    c.restore(std::move(saved.stats));
  } catch (const libquant::Error&) {}
  return 0;
}
