// The llama.cpp-exact matrix product (what `analyze` runs) at each SIMD level
// this CPU has, on SmolLM2-135M's projection shapes with a 512-token chunk.
// The levels give identical bits (tests/unit/test_ggml_exact.cpp); this
// measures what each costs. Run: build/bench/bench/bench_exact_kernels
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "cpu/ggml_exact.hpp"
#include "libquant/core/cpu_features.hpp"
#include "libquant/core/thread_pool.hpp"

namespace {

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// args: SIMD level, weight rows, k; 512 tokens.
void BM_exact_matmul(benchmark::State& s) {
  const auto level = static_cast<libquant::SimdLevel>(s.range(0));
  if (level > libquant::detected_simd_level()) {
    s.SkipWithError("this CPU lacks the level");
    return;
  }
  libquant::set_simd_limit(level);
  const int64_t m = s.range(1), k = s.range(2), n = 512;
  const auto A = random_floats(static_cast<size_t>(m * k), 1), B = random_floats(static_cast<size_t>(n * k), 2);
  std::vector<float> C(static_cast<size_t>(m * n));
  libquant::ThreadPool pool(1);
  for (auto _ : s) {
    libquant::cpu::ggml::matmul_f32(A.data(), k, m, B.data(), k, n, k, C.data(), m, pool);
    benchmark::DoNotOptimize(C.data());
  }
  s.SetLabel(libquant::simd_level_name(level));
  s.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k * static_cast<double>(s.iterations()),
                                             benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  libquant::set_simd_limit(libquant::SimdLevel::Avx512);
}

}  // namespace

BENCHMARK(BM_exact_matmul)
    ->ArgsProduct({{0, 1, 2}, {576, 1536}, {576}})
    ->Args({0, 576, 1536})
    ->Args({1, 576, 1536})
    ->Args({2, 576, 1536})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
