// llama.cpp-exact kernels (libquant/src/cpu/ggml_exact.*): the AVX-512 and
// AVX2 paths must give the scalar definitions' bits exactly, whatever the
// inputs (exp arguments that underflow, overflow or are NaN included), and
// the definitions themselves must be the operations they name (checked
// against double-precision arithmetic within rounding).
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/ggml_exact.hpp"
#include "libquant/core/cpu_features.hpp"
#include "libquant/core/thread_pool.hpp"
#include "random_matrices.hpp"

using namespace libquant;
namespace ggml = libquant::cpu::ggml;

namespace {

// Runs fn at every SIMD level this CPU has, restoring the limit afterwards.
struct SimdLimit {
  explicit SimdLimit(SimdLevel l) { set_simd_limit(l); }
  ~SimdLimit() { set_simd_limit(SimdLevel::Avx512); }
};

std::vector<SimdLevel> fast_levels() {
  std::vector<SimdLevel> out;
  for (auto l : {SimdLevel::Avx2, SimdLevel::Avx512})
    if (l <= detected_simd_level()) out.push_back(l);
  if (out.empty()) WARN("no SIMD level on this CPU: only the scalar definitions run");
  return out;
}

template <class F>
auto at_level(SimdLevel l, F&& fn) {
  SimdLimit guard(l);
  return fn();
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the CPU probe reports a level and the limit caps it", "[ggml_exact][simd]") {
  const SimdLevel have = detected_simd_level();
  // Printed so that a CI log says which paths this machine ran.
  WARN("CPU SIMD level: " << simd_level_name(have) << " (avx2 " << cpu_features().avx2 << ", avx512f "
                          << cpu_features().avx512f << ", avx512vnni " << cpu_features().avx512vnni << ")");
  CHECK(simd_level() == have);
  {
    SimdLimit guard(SimdLevel::Scalar);
    CHECK(simd_level() == SimdLevel::Scalar);
    CHECK_FALSE(use_avx512_vnni());
  }
  CHECK(simd_level() == have);
  CHECK(parse_simd_level("avx2") == SimdLevel::Avx2);
  CHECK_FALSE(parse_simd_level("sse").has_value());
}

TEST_CASE("exact matmul: every SIMD path equals the scalar definition bit for bit", "[ggml_exact][simd]") {
  ThreadPool pool(2);
  // tinyBLAS shapes (rows % 4, k % 16, >= 2 columns) with odd column counts
  // for the edge tiles, and vec_dot shapes (k = 8, 72; one column).
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s : {Shape{4, 2, 16}, Shape{8, 7, 64}, Shape{36, 13, 272}, Shape{64, 97, 576}, Shape{12, 5, 72},
                  Shape{8, 1, 64}, Shape{6, 3, 16}}) {
    const auto A = test::randn(static_cast<size_t>(s.m * s.k), 11, 0.5f);
    const auto B = test::randn(static_cast<size_t>(s.n * s.k), 12, 2.0f);
    auto run = [&] {
      std::vector<float> C(static_cast<size_t>(s.m * s.n));
      ggml::matmul_f32(A.data(), s.k, s.m, B.data(), s.k, s.n, s.k, C.data(), s.m, pool);
      return C;
    };
    const auto ref = at_level(SimdLevel::Scalar, run);
    // The definition is a dot product: within float rounding of the double one.
    for (int64_t j = 0; j < s.n; ++j)
      for (int64_t i = 0; i < s.m; ++i) {
        double d = 0, mag = 0;
        for (int64_t l = 0; l < s.k; ++l) {
          d += double(A[i * s.k + l]) * B[j * s.k + l];
          mag += std::fabs(double(A[i * s.k + l]) * B[j * s.k + l]);
        }
        REQUIRE(std::fabs(ref[j * s.m + i] - d) <= 1e-6 * mag + 1e-30);
      }
    for (SimdLevel l : fast_levels()) {
      INFO(simd_level_name(l) << " m=" << s.m << " n=" << s.n << " k=" << s.k);
      CHECK(same_bits(at_level(l, run), ref));
    }
  }
}

TEST_CASE("exact exp, softmax, SiLU and f16 rounding: SIMD paths equal the definitions", "[ggml_exact][simd]") {
  // Softmax arguments after the maximum is subtracted span (-inf, 0]; the
  // lanes whose power of two leaves the normal range (x < -87.3), -inf from
  // the causal mask and NaN take the exact slow path in the AVX2 kernel.
  // With scale 1 and a maximum of 0 the kernels see these values as they are.
  std::vector<float> row = test::randn(160, 21, 30.0f);
  for (float& v : row) v = -std::fabs(v);
  row[0] = 0.0f;
  const float edge[] = {-87.3f,  -87.4f, -88.0f,    -90.0f, -103.0f, -104.0f, -110.0f, -200.0f,
                        -1e-30f, -0.0f,  -INFINITY, -1e-3f, -5.0f,   -86.0f,  -86.7f,  -60.0f};
  for (size_t i = 0; i < std::size(edge); ++i) row[3 + 9 * i] = edge[i];
  for (float x : {0.0f, -1.0f, -20.0f, -87.0f, 10.0f})
    CHECK(std::fabs(ggml::vexpf(x) - std::exp(x)) <= 4e-7f * std::exp(x));  // ggml's exp is within 1-2 ulp
  CHECK(ggml::vexpf(-INFINITY) == 0.0f);
  CHECK(std::isnan(ggml::vexpf(std::numeric_limits<float>::quiet_NaN())));

  std::vector<float> mask(row.size(), 0.0f);
  for (size_t i = 140; i < mask.size(); ++i) mask[i] = -INFINITY;
  auto softmax = [&] {
    auto x = row;
    ggml::soft_max_row(x.data(), static_cast<int64_t>(x.size()), 1.0f, mask.data());
    return x;
  };
  const auto gate = test::randn(3 * 80, 22, 6.0f), up = test::randn(3 * 80, 23);
  auto silu = [&] {
    auto g = gate;
    for (size_t i = 0; i < std::size(edge); ++i) g[5 + 11 * i] = -edge[i];        // exp(-g) over the same edges
    for (size_t i = 0; i < std::size(edge); ++i) g[6 + 11 * i] = edge[i] - 2.0f;  // and exp(+...) overflowing
    std::vector<float> out(g.size());
    ggml::silu_mul(g.data(), up.data(), out.data(), 3, 80);
    return out;
  };
  auto half = [&] {
    auto x = test::randn(77, 24, 1000.0f);
    x[1] = 65520.0f;  // rounds up to infinity
    x[2] = 1e-6f;     // subnormal half
    x[3] = 2049.0f;   // a tie: rounds to even (2048)
    ggml::round_to_half(x.data(), static_cast<int64_t>(x.size()));
    return x;
  };

  const auto sm = at_level(SimdLevel::Scalar, softmax), si = at_level(SimdLevel::Scalar, silu),
             hf = at_level(SimdLevel::Scalar, half);
  double total = 0;
  for (float v : sm) total += v;
  CHECK(total == Approx(1.0).epsilon(1e-5));
  CHECK(sm[150] == 0.0f);
  CHECK(hf[3] == 2048.0f);
  CHECK(std::isinf(hf[1]));
  for (SimdLevel l : fast_levels()) {
    INFO(simd_level_name(l));
    CHECK(same_bits(at_level(l, softmax), sm));
    CHECK(same_bits(at_level(l, silu), si));
    CHECK(same_bits(at_level(l, half), hf));
  }
}

TEST_CASE("exact attention with the f16 cache: SIMD paths equal the definitions", "[ggml_exact][simd]") {
  ThreadPool pool(2);
  for (int64_t hd : {8, 64}) {  // head_dim 8 takes vec_dot, 64 tinyBLAS
    const int64_t T = 37, nh = 4, nkv = 2;
    const auto q = test::randn(static_cast<size_t>(T * nh * hd), 31, 2.0f);
    const auto k = test::randn(static_cast<size_t>(T * nkv * hd), 32, 2.0f);
    const auto v = test::randn(static_cast<size_t>(T * nkv * hd), 33);
    auto run = [&] {
      std::vector<float> out(static_cast<size_t>(T * nh * hd));
      ggml::attention(q.data(), k.data(), v.data(), T, nh, nkv, hd, out.data(), pool);
      return out;
    };
    const auto ref = at_level(SimdLevel::Scalar, run);
    for (SimdLevel l : fast_levels()) {
      INFO(simd_level_name(l) << " head_dim " << hd);
      CHECK(same_bits(at_level(l, run), ref));
    }
  }
}
