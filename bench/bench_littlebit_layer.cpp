// Time to compress one Llama-2-7B-shaped decoder layer with LittleBit:
// Dual-SVID initialization and activation-aware refinement (100 Adam steps
// on 2048 calibration rows, the CLI defaults), per weight shape, on all
// cores. Weights are synthetic with a decaying spectrum (timing depends on
// shape and rank only). bench/littlebit_layer_time.sh sums a whole layer
// and extrapolates to the 32 layers of Llama-2-7B. BM_truncated_svd times one
// 4096 x 11008 SVD. Both run on the active backend (LLM_QUANTIZE_DEVICE).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "bench_environment.hpp"
#include "libquant/backend/backend.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/methods/littlebit_refine.hpp"

namespace {
using namespace libquant::methods;

std::vector<float> synthetic_weight(int64_t m, int64_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d;
  std::vector<float> w(static_cast<size_t>(m * n));
  for (auto& x : w) x = 0.01f * d(rng);
  // A few strong directions on top of the noise, like trained weights.
  for (int k = 0; k < 16; ++k) {
    std::vector<float> a(static_cast<size_t>(m)), b(static_cast<size_t>(n));
    for (auto& x : a) x = d(rng);
    for (auto& x : b) x = d(rng);
    const float s = 0.05f * std::exp(-0.2f * static_cast<float>(k)) / std::sqrt(static_cast<float>(n));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) w[i * n + j] += s * a[i] * b[j];
  }
  return w;
}

// range(0): out, range(1): in, range(2): bpw x 100, range(3): 1 = refine too.
void BM_littlebit_weight(benchmark::State& s) {
  bench::use_device_from_environment();
  const int64_t m = s.range(0), n = s.range(1);
  const double bpw = static_cast<double>(s.range(2)) / 100.0;
  const bool refine = s.range(3) != 0;
  const auto w = synthetic_weight(m, n);
  std::vector<float> z;
  constexpr int64_t K = 2048;
  if (refine) {
    std::mt19937 rng(2);
    std::normal_distribution<float> d;
    z.resize(static_cast<size_t>(K * n));
    for (auto& x : z) x = d(rng);
  }
  LittleBitInitOptions init;
  init.rank = littlebit_rank_for_bpw(m, n, bpw, 2);
  init.svd = bench::svd_options_from_environment();
  for (auto _ : s) {
    auto lat = dual_svid_init(w.data(), m, n, init);
    if (refine) refine_littlebit(lat, w.data(), z.data(), K, LittleBitRefineOptions{});
    benchmark::DoNotOptimize(lat.data());
  }
  s.SetLabel(std::string(refine ? "init+refine" : "init") + ", rank " + std::to_string(init.rank));
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int bpw : {10, 100})
    for (int refine : {0, 1}) {
      b->Args({4096, 4096, bpw, refine});   // q, k, v, o
      b->Args({11008, 4096, bpw, refine});  // gate, up
      b->Args({4096, 11008, bpw, refine});  // down
    }
}

// One truncated SVD of a 4096 x 11008 matrix on the active backend
// (LLM_QUANTIZE_DEVICE=cuda for the GPU): range(0) = k, range(1) = 1 exact / 0 randomized.
void BM_truncated_svd(benchmark::State& s) {
  bench::use_device_from_environment();
  const int64_t m = 4096, n = 11008, k = s.range(0);
  const auto w = synthetic_weight(m, n);
  libquant::cpu::SvdOptions o = bench::svd_options_from_environment();
  o.method = s.range(1) ? libquant::cpu::SvdMethod::Exact : libquant::cpu::SvdMethod::Randomized;
  auto& be = libquant::backend::active();
  for (auto _ : s) benchmark::DoNotOptimize(be.truncated_svd(w.data(), m, n, k, o).s.data());
  s.SetLabel(be.name() + (s.range(1) ? ", exact" : ", randomized"));
}

}  // namespace

BENCHMARK(BM_truncated_svd)
    ->Args({128, 0})
    ->Args({1472, 0})
    ->Args({1472, 1})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK(BM_littlebit_weight)->Apply(shapes)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_MAIN();
