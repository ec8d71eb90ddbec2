// f16/bf16 conversions checked against the compiler's own _Float16 arithmetic
// (libgcc's soft-float conversion, an independent implementation) and against
// the IEEE definition of bfloat16 rounding.
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "libquant/core/half.hpp"

using namespace libquant;

static uint16_t oracle_f16(float f) { return std::bit_cast<uint16_t>(static_cast<_Float16>(f)); }

TEST_CASE("f16 -> f32 is exact for all 65536 patterns", "[half]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float expected = static_cast<float>(std::bit_cast<_Float16>(static_cast<uint16_t>(h)));
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
  std::vector<float> xs = {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, 1e-8f, 5.96e-8f, 2.98e-8f,
                           2.9802322e-08f, 6.1035156e-05f, INFINITY, -INFINITY, 1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048};
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
  for (int i = 0; i < 2'000'000; ++i) xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
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
    const float x = std::bit_cast<float>(static_cast<uint32_t>(rng()) & 0x7effffffu);  // finite, below the bf16 overflow threshold
    const uint16_t h = f32_to_bf16(x);
    const long double got = bf16_to_f32(h);
    const long double lo = bf16_to_f32(static_cast<uint16_t>(h - 1));
    const long double hi = bf16_to_f32(static_cast<uint16_t>(h + 1));
    const long double err = std::fabs(got - static_cast<long double>(x));
    if (std::isfinite(static_cast<float>(lo)) && (h & 0x7fff) != 0) REQUIRE(err <= std::fabs(lo - static_cast<long double>(x)));
    if (std::isfinite(static_cast<float>(hi))) REQUIRE(err <= std::fabs(hi - static_cast<long double>(x)));
  }
}

TEST_CASE("fp8 decoding matches the OCP definitions", "[half]") {
  REQUIRE(fp8_e4m3_to_f32(0x38) == 1.0f);      // exp 7 -> 2^0
  REQUIRE(fp8_e4m3_to_f32(0x7e) == 448.0f);    // largest finite
  REQUIRE(std::isnan(fp8_e4m3_to_f32(0x7f)));
  REQUIRE(fp8_e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));  // smallest subnormal
  REQUIRE(fp8_e5m2_to_f32(0x3c) == 1.0f);
  REQUIRE(fp8_e5m2_to_f32(0x7b) == 57344.0f);
  REQUIRE(std::isinf(fp8_e5m2_to_f32(0x7c)));
}
