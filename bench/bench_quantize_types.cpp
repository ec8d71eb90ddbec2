// Per-type quantize throughput of the GGUF block codecs (input f32 bytes per
// second), on a 64 x 4096 slab of weights, without and with importance
// weights. Q8_0 and the f16/bf16 conversions also have an explicit scalar
// reference to compare with (bench_kernels); the other codecs are the
// scalar reference arithmetic that bit-exactness with llama.cpp requires.
// Run: build/bench/bench/bench_quantize_types [--benchmark_filter=Q4_K]
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace {

constexpr int64_t kRows = 64, kCols = 4096;

const std::vector<float>& weights() {
  static const std::vector<float> w = [] {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::vector<float> v(static_cast<size_t>(kRows * kCols));
    for (auto& x : v) x = nd(rng);
    return v;
  }();
  return w;
}

const std::vector<float>& importance() {
  static const std::vector<float> imp = [] {
    std::mt19937 rng(9);
    std::gamma_distribution<float> g(2.0f, 0.5f);
    std::vector<float> v(static_cast<size_t>(kCols));
    for (auto& x : v) x = g(rng);
    return v;
  }();
  return imp;
}

void BM_quantize(benchmark::State& s, libquant::DType t, bool with_importance) {
  const auto& x = weights();
  std::vector<std::byte> y(libquant::row_bytes(t, kCols) * kRows);
  const float* imp = with_importance ? importance().data() : nullptr;
  libquant::gguf::quantize_rows(t, x.data(), y.data(), 1, kCols, imp);  // codebook tables built outside the timing
  for (auto _ : s) {
    libquant::gguf::quantize_rows(t, x.data(), y.data(), kRows, kCols, imp);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations()) * kRows * kCols * 4);
}

void BM_dequantize(benchmark::State& s, libquant::DType t) {
  const auto& x = weights();
  std::vector<std::byte> q(libquant::row_bytes(t, kCols) * kRows);
  libquant::gguf::quantize_rows(t, x.data(), q.data(), kRows, kCols, importance().data());
  std::vector<float> y(x.size());
  for (auto _ : s) {
    libquant::gguf::dequantize(t, q.data(), y.data(), kRows * kCols);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations()) * kRows * kCols * 4);
}

const int registered = [] {
  using libquant::DType;
  const DType plain[] = {DType::F16,   DType::BF16,  DType::Q8_0,   DType::Q4_0,   DType::Q4_1,
                         DType::Q5_0,  DType::Q5_1,  DType::Q2_K,   DType::Q3_K,   DType::Q4_K,
                         DType::Q5_K,  DType::Q6_K,  DType::IQ4_NL, DType::IQ4_XS, DType::IQ3_XXS,
                         DType::IQ3_S, DType::IQ2_S, DType::IQ1_M,  DType::TQ1_0,  DType::TQ2_0};
  const DType weighted[] = {DType::Q4_0,  DType::Q4_1,    DType::Q5_0,   DType::Q5_1,   DType::Q2_K,   DType::Q3_K,
                            DType::Q4_K,  DType::Q5_K,    DType::Q6_K,   DType::IQ4_NL, DType::IQ4_XS, DType::IQ3_XXS,
                            DType::IQ3_S, DType::IQ2_XXS, DType::IQ2_XS, DType::IQ2_S,  DType::IQ1_S,  DType::IQ1_M};
  for (DType t : plain)
    benchmark::RegisterBenchmark((std::string("quantize/") + std::string(libquant::traits(t).name)).c_str(),
                                 BM_quantize, t, false);
  for (DType t : weighted)
    benchmark::RegisterBenchmark((std::string("quantize_imatrix/") + std::string(libquant::traits(t).name)).c_str(),
                                 BM_quantize, t, true);
  for (DType t : weighted)
    benchmark::RegisterBenchmark((std::string("dequantize/") + std::string(libquant::traits(t).name)).c_str(),
                                 BM_dequantize, t);
  return 0;
}();

}  // namespace
BENCHMARK_MAIN();
