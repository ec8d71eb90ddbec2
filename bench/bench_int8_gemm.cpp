// W8A8 GEMM throughput: our int8 x int8 -> int32 kernel (fastest path on this
// CPU, and AVX2 for comparison) against OpenBLAS sgemm on the same shapes,
// M tokens x (K inputs -> N outputs) of Llama-7B layers. Ratios:
// bench/int8_vs_sgemm.sh. Run: build/release/bench/bench_int8_gemm
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "libquant/core/thread_pool.hpp"
#include "libquant/cpu/int8_gemm.hpp"

namespace {

template <typename T>
std::vector<T> random_values(size_t n, int lo, int hi) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

void set_flops(benchmark::State& s, int64_t M, int64_t N, int64_t K) {
  s.counters["GOPS"] = benchmark::Counter(2.0 * static_cast<double>(M * N * K),
                                          benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_int8_gemm(benchmark::State& s) {
  const int64_t M = s.range(0), K = s.range(1), N = s.range(2);
  const auto path = static_cast<libquant::cpu::Int8GemmPath>(s.range(3));
  if (!libquant::cpu::int8_gemm_path_supported(path)) {
    s.SkipWithError("path not supported on this CPU");
    return;
  }
  auto a = random_values<int8_t>(static_cast<size_t>(M * K), -128, 127);
  auto b = random_values<int8_t>(static_cast<size_t>(N * K), -128, 127);
  std::vector<int32_t> c(static_cast<size_t>(M * N));
  libquant::ThreadPool pool(1);
  for (auto _ : s) {
    libquant::cpu::gemm_s8s8s32_on(path, a.data(), b.data(), c.data(), M, N, K);
    benchmark::DoNotOptimize(c.data());
  }
  s.SetLabel(libquant::cpu::int8_gemm_path_name(path));
  set_flops(s, M, N, K);
}

void BM_sgemm(benchmark::State& s) {
  const int64_t M = s.range(0), K = s.range(1), N = s.range(2);
  openblas_set_num_threads(1);
  auto a = random_values<float>(static_cast<size_t>(M * K), -8, 8);
  auto b = random_values<float>(static_cast<size_t>(N * K), -8, 8);
  std::vector<float> c(static_cast<size_t>(M * N));
  for (auto _ : s) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K),
                1.0f, a.data(), static_cast<int>(K), b.data(), static_cast<int>(K), 0.0f, c.data(),
                static_cast<int>(N));
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(s, M, N, K);
}

// One thread each, so the ratio compares kernels, not thread scheduling.
void shapes(benchmark::internal::Benchmark* b, bool with_path) {
  for (int64_t m : {16, 128})
    for (auto kn : {std::pair<int64_t, int64_t>{4096, 4096}, {4096, 11008}, {11008, 4096}}) {
      if (with_path)
        for (int p : {2, 1}) b->Args({m, kn.first, kn.second, p});
      else
        b->Args({m, kn.first, kn.second});
    }
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_int8_gemm)->Apply([](auto* b) { shapes(b, true); });
BENCHMARK(BM_sgemm)->Apply([](auto* b) { shapes(b, false); });

}  // namespace

BENCHMARK_MAIN();
