// INT8 kernels: quantization against compressed-tensors' rules worked by hand,
// and every GEMM path against a plain int64 product.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "libquant/core/thread_pool.hpp"
#include "libquant/cpu/int8_gemm.hpp"

using namespace libquant::cpu;

TEST_CASE("int8 quantization follows compressed-tensors' rounding", "[int8]") {
  // absmax / 127.5: the maximum lands on 127.5 and clamps to 127, the minimum on -127.5, which rounds to even: -128.
  const float s = int8_scale(255.0f);
  CHECK(s == 2.0f);
  CHECK(quantize_int8(255.0f, s) == 127);
  CHECK(quantize_int8(-255.0f, s) == -128);
  CHECK(quantize_int8(1.0f, s) == 0);    // 0.5 -> 0 (half to even)
  CHECK(quantize_int8(3.0f, s) == 2);    // 1.5 -> 2
  CHECK(quantize_int8(5.0f, s) == 2);    // 2.5 -> 2
  CHECK(quantize_int8(-3.0f, s) == -2);  // -1.5 -> -2
  CHECK(quantize_int8(1000.0f, s) == 127);
  CHECK(int8_scale(0.0f) > 0.0f);  // zero rows keep a positive scale and quantize to zeros
  CHECK(quantize_int8(0.0f, int8_scale(0.0f)) == 0);

  // Scales 2 and 1 are exact in float, so the quotients are the worked values.
  const std::vector<float> x = {1.0f, -255.0f, 3.0f, 0.0f, 127.5f, -2.5f, 0.75f, -127.5f};
  std::vector<int8_t> q(8);
  std::vector<float> sc(2);
  quantize_rows_int8(x.data(), 2, 4, q.data(), sc.data());
  CHECK(sc[0] == 2.0f);
  CHECK(sc[1] == 1.0f);
  // Row 0: 0.5 -> 0, -127.5 -> -128, 1.5 -> 2, 0. Row 1: 127.5 -> 127 (clamped), -2.5 -> -2, 0.75 -> 1, -127.5 -> -128.
  CHECK(q == std::vector<int8_t>{0, -128, 2, 0, 127, -2, 1, -128});
}

namespace {
std::vector<int8_t> random_int8(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<int32_t> int64_product(const std::vector<int8_t>& a, const std::vector<int8_t>& b, int64_t M, int64_t N,
                                   int64_t K) {
  std::vector<int32_t> c(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += int64_t{a[m * K + k]} * int64_t{b[n * K + k]};
      c[m * N + n] = static_cast<int32_t>(s);
    }
  return c;
}
}  // namespace

TEST_CASE("every int8 GEMM path equals the exact product", "[int8]") {
  std::mt19937 rng(7);
  libquant::ThreadPool pool(3);
  // Shapes with ragged edges in every dimension (tiles of 4 rows, 64-byte and 16-byte K steps).
  const int64_t shapes[][3] = {{1, 1, 1},    {3, 5, 7},     {4, 4, 64},    {5, 17, 65},
                               {9, 33, 130}, {64, 20, 576}, {70, 45, 1536}};
  for (const auto& sh : shapes) {
    const int64_t M = sh[0], N = sh[1], K = sh[2];
    auto a = random_int8(static_cast<size_t>(M * K), rng), b = random_int8(static_cast<size_t>(N * K), rng);
    // Extreme values: the VNNI path's +128 offset and the AVX2 path's -128 * -128 pairs.
    a[0] = -128;
    b[0] = -128;
    if (K > 1) a[1] = b[1] = 127;
    const auto want = int64_product(a, b, M, N, K);
    std::vector<int32_t> c(want.size());
    gemm_s8s8s32_reference(a.data(), b.data(), c.data(), M, N, K);
    CHECK(c == want);
    for (auto p : {Int8GemmPath::Scalar, Int8GemmPath::Avx2, Int8GemmPath::Avx512Vnni}) {
      if (!int8_gemm_path_supported(p)) {
        WARN("int8 GEMM path " << int8_gemm_path_name(p) << " not supported here; not tested");
        continue;
      }
      std::fill(c.begin(), c.end(), 0);
      gemm_s8s8s32_on(p, a.data(), b.data(), c.data(), M, N, K);
      INFO(int8_gemm_path_name(p) << " M=" << M << " N=" << N << " K=" << K);
      CHECK(c == want);
    }
    std::fill(c.begin(), c.end(), 0);
    gemm_s8s8s32(a.data(), b.data(), c.data(), M, N, K, &pool);
    CHECK(c == want);
  }
}
