// f16/bf16 conversions checked against independent oracles: the IEEE
// definition of binary16 (decoding by ldexp, encoding by nearest-value search
// with ties to even) and, where the compiler has it, _Float16 arithmetic.
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "libquant/core/half.hpp"

using namespace libquant;

// Value of a binary16 pattern by its definition.
static double f16_value(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exp == 0x1f) return mant ? NAN : sign * INFINITY;
  if (exp == 0) return sign * std::ldexp(static_cast<double>(mant), -24);
  return sign * std::ldexp(static_cast<double>(1024 + mant), exp - 25);
}

// Nearest binary16 to a finite or infinite float, ties to the even pattern;
// magnitudes at or above 65520 (the midpoint past 65504) become infinity.
static uint16_t oracle_f16(float f) {
#if defined(__FLT16_MAX__) && defined(__x86_64__)  // (GCC 12 has no C++ _Float16 on aarch64)
  const uint16_t compiler = std::bit_cast<uint16_t>(static_cast<_Float16>(f));
#endif
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double ax = std::fabs(static_cast<double>(f));
  uint16_t h;
  if (ax >= 65520.0) {
    h = 0x7c00;
  } else {
    uint16_t lo = 0, hi = 0x7bff;  // largest pattern with value <= ax
    while (lo < hi) {
      const uint16_t mid = static_cast<uint16_t>((lo + hi + 1) / 2);
      if (f16_value(mid) <= ax)
        lo = mid;
      else
        hi = static_cast<uint16_t>(mid - 1);
    }
    h = lo;
    const double below = f16_value(h), above = h == 0x7bff ? 65536.0 : f16_value(static_cast<uint16_t>(h + 1));
    if (ax - below > above - ax || (ax - below == above - ax && (h & 1))) ++h;
  }
  h |= sign;
#if defined(__FLT16_MAX__) && defined(__x86_64__)  // (GCC 12 has no C++ _Float16 on aarch64)
  REQUIRE(h == compiler);
#endif
  return h;
}

TEST_CASE("f16 -> f32 is exact for all 65536 patterns", "[half]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float expected = static_cast<float>(f16_value(static_cast<uint16_t>(h)));
    const float got = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(expected)) {
      REQUIRE(std::isnan(got));
    } else {
      REQUIRE(std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(expected));
    }
  }
}

TEST_CASE("f32 -> f16 rounds to nearest even like the compiler", "[half]") {
  std::mt19937 rng(1234);
  std::vector<float> xs = {0.0f,     -0.0f,     65504.0f,           65519.99f,         65520.0f,
                           1e-8f,    5.96e-8f,  2.98e-8f,           2.9802322e-08f,    6.1035156e-05f,
                           INFINITY, -INFINITY, 1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048};
  // Every f16 value and the exact midpoints between neighbours (tie cases).
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const float a = f16_to_f32(static_cast<uint16_t>(h));
    const float b = f16_to_f32(static_cast<uint16_t>(h + 1));
    xs.push_back(a);
    xs.push_back(-a);
    xs.push_back(a + (b - a) / 2);
    xs.push_back(std::nextafter(a + (b - a) / 2, 0.0f));
    xs.push_back(std::nextafter(a + (b - a) / 2, INFINITY));
  }
  for (int i = 0; i < 300'000; ++i) xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  std::vector<uint16_t> bulk(xs.size());
  f32_to_f16(xs.data(), bulk.data(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    if (std::isnan(x)) {
      const uint16_t h = f32_to_f16(x);
      REQUIRE((h & 0x7c00) == 0x7c00);
      REQUIRE((h & 0x03ff) != 0);
      REQUIRE((h & 0x8000) == ((std::bit_cast<uint32_t>(x) >> 16) & 0x8000));
      continue;
    }
    INFO("x = " << x);
    REQUIRE(f32_to_f16(x) == oracle_f16(x));
    REQUIRE(bulk[i] == oracle_f16(x));
  }
}

TEST_CASE("bf16 rounding follows round-to-nearest-even", "[half]") {
  // 1 + 2^-8 lies exactly between two bf16 values: ties go to the even one (1.0).
  REQUIRE(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
  // 1 + 3*2^-8 ties upwards to the even mantissa.
  REQUIRE(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
  REQUIRE(f32_to_bf16(INFINITY) == 0x7f80);
  REQUIRE(f32_to_bf16(-INFINITY) == 0xff80);
  REQUIRE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  // A signalling NaN whose payload is only in the low half must stay NaN.
  REQUIRE(std::isnan(bf16_to_f32(f32_to_bf16(std::bit_cast<float>(0x7f800001u)))));
  // Against long-double arithmetic: bf16 is the nearest representable value.
  std::mt19937 rng(99);
  for (int i = 0; i < 200000; ++i) {
    const float x =
        std::bit_cast<float>(static_cast<uint32_t>(rng()) & 0x7effffffu);  // finite, below the bf16 overflow threshold
    const uint16_t h = f32_to_bf16(x);
    const long double got = bf16_to_f32(h);
    const long double lo = bf16_to_f32(static_cast<uint16_t>(h - 1));
    const long double hi = bf16_to_f32(static_cast<uint16_t>(h + 1));
    const long double err = std::fabs(got - static_cast<long double>(x));
    if (std::isfinite(static_cast<float>(lo)) && (h & 0x7fff) != 0)
      REQUIRE(err <= std::fabs(lo - static_cast<long double>(x)));
    if (std::isfinite(static_cast<float>(hi))) REQUIRE(err <= std::fabs(hi - static_cast<long double>(x)));
  }
}

TEST_CASE("fp8 decoding matches the OCP definitions", "[half]") {
  REQUIRE(fp8_e4m3_to_f32(0x38) == 1.0f);    // exp 7 -> 2^0
  REQUIRE(fp8_e4m3_to_f32(0x7e) == 448.0f);  // largest finite
  REQUIRE(std::isnan(fp8_e4m3_to_f32(0x7f)));
  REQUIRE(fp8_e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));  // smallest subnormal
  REQUIRE(fp8_e5m2_to_f32(0x3c) == 1.0f);
  REQUIRE(fp8_e5m2_to_f32(0x7b) == 57344.0f);
  REQUIRE(std::isinf(fp8_e5m2_to_f32(0x7c)));
}
