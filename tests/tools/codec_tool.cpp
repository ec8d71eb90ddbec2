// Test helper: drives libquant's block codecs on raw files so that Python
// tests can compare them with gguf-py's numpy codecs.
//   codec_tool quantize TYPE N_PER_ROW in.f32 out.bin [importance.f32]
//   codec_tool dequantize TYPE in.bin out.f32
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <cstdlib>

#include "libquant/core/cpu_features.hpp"
#include "libquant/core/dtype.hpp"
#include "libquant/core/error.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace {
std::vector<char> slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spit(const std::string& p, const void* d, size_t n) {
  std::ofstream out(p, std::ios::binary);
  out.write(static_cast<const char*>(d), static_cast<std::streamsize>(n));
}
}  // namespace

int main(int argc, char** argv) {
  // The tests choose the kernels' instruction set as the CLI does.
  if (const char* simd = std::getenv("LLM_QUANTIZE_SIMD"))
    if (auto level = libquant::parse_simd_level(simd)) libquant::set_simd_limit(*level);
  try {
    if (argc < 5) {
      std::cerr
          << "usage: codec_tool quantize TYPE N_PER_ROW in.f32 out.bin [imp.f32] | dequantize TYPE in.bin out.f32\n";
      return 2;
    }
    const std::string mode = argv[1];
    const auto type = libquant::ggml_type_from_name(argv[2]);
    if (!type) throw std::runtime_error(std::string("unknown type ") + argv[2]);
    if (mode == "quantize" && argc >= 6) {
      const int64_t n_per_row = std::stoll(argv[3]);
      const auto raw = slurp(argv[4]);
      const auto n = static_cast<int64_t>(raw.size() / 4);
      std::vector<char> imp;
      if (argc >= 7) imp = slurp(argv[6]);
      std::vector<std::byte> out(libquant::row_bytes(*type, n_per_row) * static_cast<uint64_t>(n / n_per_row));
      libquant::gguf::quantize_rows(*type, reinterpret_cast<const float*>(raw.data()), out.data(), n / n_per_row,
                                    n_per_row, imp.empty() ? nullptr : reinterpret_cast<const float*>(imp.data()));
      spit(argv[5], out.data(), out.size());
      return 0;
    }
    if (mode == "dequantize") {
      const auto raw = slurp(argv[3]);
      const auto& tr = libquant::traits(*type);
      const auto n = static_cast<int64_t>(raw.size() * 8 / tr.block_bits * tr.block_size);
      std::vector<float> out(static_cast<size_t>(n));
      libquant::gguf::dequantize(*type, raw.data(), out.data(), n);
      spit(argv[4], out.data(), out.size() * 4);
      return 0;
    }
    std::cerr << "bad arguments\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
