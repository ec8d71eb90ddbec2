#include <cmath>
#include <cstring>
#include <random>

#include <catch2/catch.hpp>

#include "libquant/core/half.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/gguf_file.hpp"
#include "test_helpers.hpp"

using namespace libquant;

TEST_CASE("Q8_0 fast path equals the scalar reference, ties included", "[q8_0]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> x(32 * 64);
    for (auto& v : x) v = nd(rng) * (trial % 7 == 0 ? 1e-30f : 1.0f);
    if (trial % 3 == 0) {  // values that land exactly on .5 after scaling: 127 * k / 254
      for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((static_cast<int>(i) % 255) - 127) / 2.0f;
    }
    if (trial == 5) std::fill(x.begin(), x.end(), 0.0f);
    std::vector<std::byte> a(row_bytes(DType::Q8_0, 2048)), b(a.size());
    gguf::quantize_row_q8_0_ref(x.data(), a.data(), 2048);
    gguf::quantize_row_q8_0_fast(x.data(), b.data(), 2048);
    REQUIRE(a == b);
  }
}

TEST_CASE("Q8_0 reference rounds half away from zero with d = amax/127", "[q8_0]") {
  float x[32] = {};
  x[0] = 127.0f;  // d = 1
  x[1] = 2.5f;    // -> 3 (not 2: half away from zero)
  x[2] = -2.5f;   // -> -3
  x[3] = 0.49f;
  std::byte out[34];
  gguf::quantize_row_q8_0_ref(x, out, 32);
  uint16_t d;
  std::memcpy(&d, out, 2);
  REQUIRE(f16_to_f32(d) == 1.0f);
  const auto* q = reinterpret_cast<const int8_t*>(out + 2);
  REQUIRE(q[0] == 127);
  REQUIRE(q[1] == 3);
  REQUIRE(q[2] == -3);
  REQUIRE(q[3] == 0);
  float back[32];
  gguf::dequantize(DType::Q8_0, out, back, 32);
  REQUIRE(back[1] == 3.0f);
}

TEST_CASE("Q8_0 matches llama-quantize's golden bytes on stories260K", "[q8_0]") {
  // llama-quantize made Q8_0 tensors from the F32 GGUF; re-encode the same rows.
  io::GgufFile f32(test::shared_dir() / "models/stories260K.gguf");
  io::GgufFile q8(test::shared_dir() / "golden/stories260K/quantized/stories260K-Q8_0.gguf");
  int compared = 0;
  for (const auto& t : q8.header().tensors) {
    if (t.type != DType::Q8_0) continue;
    const auto* src = f32.header().find_tensor(t.name);
    REQUIRE(src);
    const auto in = f32.view(*src).as<float>();
    std::vector<std::byte> out(t.nbytes());
    gguf::quantize_rows(DType::Q8_0, in.data(), out.data(), static_cast<int64_t>(t.shape.rows()), t.shape.row_length());
    const auto golden = q8.view(t).bytes;
    INFO(t.name);
    REQUIRE(std::equal(out.begin(), out.end(), golden.begin(), golden.end()));
    ++compared;
  }
  REQUIRE(compared >= 31);
}

TEST_CASE("MXFP4: E8M0 scale from the block's largest magnitude, E2M1 codes, exact values decode exactly", "[mxfp4]") {
  // amax 6: floor(log2 6) - 2 + 127 = 127, half-scale 2^(127 - 128) = 0.5; ggml's doubled E2M1 values
  // {0, 1, 2, 3, 4, 6, 8, 12} x 0.5 are the representable magnitudes, so these values are exact.
  std::vector<float> x = {0.5f, 1, 1.5f, 2, 3, 4, 6, -6, -0.5f, 0, 0.25f, -3, 2, 2, 2, 2};
  x.resize(32, 1.0f);
  std::vector<std::byte> q(row_bytes(DType::MXFP4, 32));
  REQUIRE(q.size() == 17);
  gguf::quantize_rows(DType::MXFP4, x.data(), q.data(), 1, 32, nullptr);
  CHECK(static_cast<int>(q[0]) == 127);
  // Codes: element j in the low nibble of byte j, element j + 16 in its high nibble (1.0 -> code 2).
  const int low[] = {1, 2, 3, 4, 5, 6, 7, 15, 9, 0};
  for (int j = 0; j < 10; ++j) CHECK((static_cast<int>(q[1 + j]) & 0x0F) == low[j]);
  CHECK((static_cast<int>(q[1]) >> 4) == 2);
  // 0.25 is halfway between 0 and 0.5: the first (code 0) wins, as in ggml.
  CHECK((static_cast<int>(q[11]) & 0x0F) == 0);
  std::vector<float> y(32);
  gguf::dequantize(DType::MXFP4, q.data(), y.data(), 32);
  for (int j = 0; j < 32; ++j)
    if (j != 10) CHECK(y[j] == x[j]);
  CHECK(y[10] == 0.0f);

  // An exponent below E8M0's range wraps as ggml's (uint8_t) cast does on x86 (-5 -> 251): the block
  // decodes to zeros, never to non-finite values.
  std::vector<float> tiny(32, 1e-39f);
  gguf::quantize_rows(DType::MXFP4, tiny.data(), q.data(), 1, 32, nullptr);
  CHECK(static_cast<int>(q[0]) == 251);
  gguf::dequantize(DType::MXFP4, q.data(), y.data(), 32);
  for (float v : y) CHECK(v == 0.0f);
  std::vector<float> zero(32, 0.0f);
  gguf::quantize_rows(DType::MXFP4, zero.data(), q.data(), 1, 32, nullptr);
  CHECK(static_cast<int>(q[0]) == 0);
}

TEST_CASE("NVFP4: one unsigned E4M3 scale per 16 values (amax / 6), E2M1 codes, known scale bytes", "[nvfp4]") {
  // Sub-block 0: amax 6 -> scale 1.0 = E4M3 exponent 7, mantissa 0 -> byte 0x38; the values below are
  // E2M1 magnitudes x 1 and decode exactly. Sub-block 1: amax 1.5 -> 0.25 = 2^-2 -> byte (5 << 3) = 0x28.
  // Sub-block 2: amax 0.006 -> 0.001 is below E4M3's normal range: subnormal round(0.001 x 512) = 1.
  // Sub-block 3: amax 6000 -> 1000 clamps to 448 = 1.75 x 2^8 -> byte (15 << 3 | 6) = 0x7E.
  std::vector<float> x(64, 0.0f);
  const float exact[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.5f, -1, -1.5f, -2, -3, -4, -6, 0};
  std::copy(exact, exact + 16, x.begin());
  x[16] = 1.5f;
  x[32] = 0.006f;
  x[48] = 6000.0f;
  x[49] = -448.0f * 6;
  std::vector<std::byte> q(row_bytes(DType::NVFP4, 64));
  REQUIRE(q.size() == 36);
  gguf::quantize_rows(DType::NVFP4, x.data(), q.data(), 1, 64, nullptr);
  CHECK(static_cast<int>(q[0]) == 0x38);
  CHECK(static_cast<int>(q[1]) == 0x28);
  CHECK(static_cast<int>(q[2]) == 0x01);
  CHECK(static_cast<int>(q[3]) == 0x7E);
  // Element j of a sub-block in the low nibble of byte j, element j + 8 in the high nibble:
  // 0 -> code 0, 0.5 -> 1, ..., 6 -> 7; -0.5 -> 9 (sign bit 8 | 1).
  CHECK(static_cast<int>(q[4 + 0]) == (0 | 9 << 4));
  CHECK(static_cast<int>(q[4 + 7]) == (7 | 0 << 4));
  std::vector<float> y(64);
  gguf::dequantize(DType::NVFP4, q.data(), y.data(), 64);
  for (int j = 0; j < 16; ++j) CHECK(y[j] == exact[j]);
  CHECK(y[16] == 1.5f);
  CHECK(y[32] == 6 * std::ldexp(1.0f, -10));  // half the subnormal scale 2^-9, times the doubled code 6
  CHECK(y[48] == 448.0f * 6);                 // clamped: the largest representable magnitude
  CHECK(y[49] == -448.0f * 6);
}

TEST_CASE("Q1_0: signs of 128 values with their mean magnitude as the scale", "[q1_0]") {
  std::vector<float> x(128);
  for (int j = 0; j < 128; ++j) x[j] = (j % 3 == 0 ? -1.0f : 1.0f) * static_cast<float>(j % 4 + 1) * 0.25f;
  x[5] = -0.0f;  // ggml tests x >= 0: negative zero counts as positive
  double mean = 0;
  for (float v : x) mean += std::fabs(v);
  mean /= 128;
  std::vector<std::byte> q(row_bytes(DType::Q1_0, 128));
  REQUIRE(q.size() == 18);
  gguf::quantize_rows(DType::Q1_0, x.data(), q.data(), 1, 128, nullptr);
  std::vector<float> y(128);
  gguf::dequantize(DType::Q1_0, q.data(), y.data(), 128);
  const float d = f16_to_f32(f32_to_f16(static_cast<float>(mean)));
  for (int j = 0; j < 128; ++j) CHECK(y[j] == (std::signbit(x[j]) && j != 5 ? -d : d));
}

TEST_CASE("Q2_0: codes {-1, 0, 1, 2} x the block's largest magnitude", "[q2_0]") {
  std::vector<float> x(64, 0.0f);
  x[0] = 4.0f;   // amax: code +1
  x[1] = -4.0f;  // -1
  x[2] = 1.9f;   // 0.475 -> 0
  x[3] = 2.1f;   // 0.525 -> 1
  x[4] = -2.0f;  // -0.5 rounds away from zero -> -1
  std::vector<std::byte> q(row_bytes(DType::Q2_0, 64));
  REQUIRE(q.size() == 18);
  gguf::quantize_rows(DType::Q2_0, x.data(), q.data(), 1, 64, nullptr);
  // Four 2-bit codes per byte from the low bits, stored as value + 1.
  CHECK(static_cast<int>(q[2]) == (2 | 0 << 2 | 1 << 4 | 2 << 6));
  CHECK(static_cast<int>(q[3]) == (0 | 1 << 2 | 1 << 4 | 1 << 6));
  std::vector<float> y(64);
  gguf::dequantize(DType::Q2_0, q.data(), y.data(), 64);
  const float expect[5] = {4, -4, 0, 4, -4};
  for (int j = 0; j < 5; ++j) CHECK(y[j] == expect[j]);
  // The code +2 (never written by the quantizer) decodes to twice the scale.
  q[2] = std::byte{3};
  gguf::dequantize(DType::Q2_0, q.data(), y.data(), 64);
  CHECK(y[0] == 8.0f);
}
