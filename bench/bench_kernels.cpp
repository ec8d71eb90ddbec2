// Kernel throughput: scalar reference vs fast path for the conversions and
// codecs the conversion job uses. Run: build/bench/bench/bench_kernels
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/half.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace {

std::vector<float> random_floats(size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

constexpr size_t kN = 4096 * 256;  // one 1M-element slab

void BM_f32_to_f16_scalar(benchmark::State& s) {
  auto x = random_floats(kN);
  std::vector<uint16_t> y(kN);
  for (auto _ : s) {
    for (size_t i = 0; i < kN; ++i) y[i] = libquant::f32_to_f16(x[i]);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * kN * sizeof(float)));
}

void BM_f32_to_f16_fast(benchmark::State& s) {
  auto x = random_floats(kN);
  std::vector<uint16_t> y(kN);
  for (auto _ : s) {
    libquant::f32_to_f16(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * kN * sizeof(float)));
}

void BM_bf16_to_f32(benchmark::State& s) {
  std::vector<uint16_t> x(kN, 0x3f80);
  std::vector<float> y(kN);
  for (auto _ : s) {
    libquant::bf16_to_f32(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * kN * sizeof(uint16_t)));
}

void BM_q8_0_ref(benchmark::State& s) {
  auto x = random_floats(kN);
  std::vector<std::byte> y(libquant::storage_bytes(libquant::DType::Q8_0, kN));
  for (auto _ : s) {
    libquant::gguf::quantize_row_q8_0_ref(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * kN * sizeof(float)));
}

void BM_q8_0_fast(benchmark::State& s) {
  auto x = random_floats(kN);
  std::vector<std::byte> y(libquant::storage_bytes(libquant::DType::Q8_0, kN));
  for (auto _ : s) {
    libquant::gguf::quantize_row_q8_0_fast(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations() * kN * sizeof(float)));
}

}  // namespace

BENCHMARK(BM_f32_to_f16_scalar);
BENCHMARK(BM_f32_to_f16_fast);
BENCHMARK(BM_bf16_to_f32);
BENCHMARK(BM_q8_0_ref);
BENCHMARK(BM_q8_0_fast);
BENCHMARK_MAIN();
