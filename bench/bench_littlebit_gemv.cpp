// LittleBit packed GEMV (one token, y = W x) for a Llama-7B down_proj-shaped
// matrix (4096 x 11008) at 0.1, 0.5 and 1.0 BPW (the paper's rank rule, two
// paths), against OpenBLAS sgemv and an AVX2/F16C fp16 GEMV on the dense
// matrix, all on one thread. Ratios: bench/littlebit_vs_dense.sh.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <immintrin.h>

#include <random>
#include <vector>

#include "libquant/core/half.hpp"
#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/methods/littlebit.hpp"

namespace {
constexpr int64_t kOut = 4096, kIn = 11008;

std::vector<float> randn(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Factors with random signs and scales: the kernel's cost depends on shape and rank only.
libquant::cpu::LittleBitFactors factors_at(double bpw) {
  const int64_t r = libquant::methods::littlebit_rank_for_bpw(kOut, kIn, bpw, 2);
  std::vector<libquant::methods::LittleBitLatent> lat;
  for (int p = 0; p < 2; ++p)
    lat.push_back({kOut, kIn, r, randn(static_cast<size_t>(kOut * r), 1 + p),
                   randn(static_cast<size_t>(r * kIn), 3 + p), randn(kOut, 5), randn(static_cast<size_t>(r), 6),
                   randn(kIn, 7)});
  return libquant::methods::binarize(lat);
}

void BM_littlebit_gemv(benchmark::State& s) {
  const double bpw = static_cast<double>(s.range(0)) / 100.0;
  const auto f = factors_at(bpw);
  const auto x = randn(kIn, 9);
  std::vector<float> y(kOut);
  for (auto _ : s) {
    f.apply(x.data(), 1, y.data(), nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetLabel("rank " + std::to_string(f.rank) + ", " + std::to_string(f.bpw()).substr(0, 5) + " bpw");
  s.counters["weight_MB"] = static_cast<double>(f.paths.size() * (f.paths[0].u.nbytes() + f.paths[0].v.nbytes())) / 1e6;
}

void BM_sgemv(benchmark::State& s) {
  const auto w = randn(static_cast<size_t>(kOut * kIn), 11);
  const auto x = randn(kIn, 9);
  std::vector<float> y(kOut);
  openblas_set_num_threads(1);
  for (auto _ : s) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, kOut, kIn, 1.0f, w.data(), kIn, x.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  s.counters["weight_MB"] = static_cast<double>(w.size() * 4) / 1e6;
}

// fp16 weights, f32 accumulation: 8 halves -> floats (F16C) and FMA per step.
__attribute__((target("avx2,fma,f16c"))) void gemv_f16(const uint16_t* w, const float* x, float* y) {
  for (int64_t i = 0; i < kOut; ++i) {
    const uint16_t* row = w + i * kIn;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int64_t j = 0;
    for (; j + 16 <= kIn; j += 16) {
      a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + j))),
                           _mm256_loadu_ps(x + j), a0);
      a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + j + 8))),
                           _mm256_loadu_ps(x + j + 8), a1);
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(a0, a1));
    float acc = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
    for (; j < kIn; ++j) acc += libquant::f16_to_f32(row[j]) * x[j];
    y[i] = acc;
  }
}

void BM_f16_gemv(benchmark::State& s) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("f16c")) {
    s.SkipWithError("needs AVX2 + F16C");
    return;
  }
  const auto wf = randn(static_cast<size_t>(kOut * kIn), 11);
  std::vector<uint16_t> w(wf.size());
  libquant::f32_to_f16(wf.data(), w.data(), w.size());
  const auto x = randn(kIn, 9);
  std::vector<float> y(kOut);
  for (auto _ : s) {
    gemv_f16(w.data(), x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  s.counters["weight_MB"] = static_cast<double>(w.size() * 2) / 1e6;
}

}  // namespace

BENCHMARK(BM_littlebit_gemv)->Arg(10)->Arg(50)->Arg(100)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sgemv)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_f16_gemv)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
