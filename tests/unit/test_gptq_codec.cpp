// GPTQ error feedback with GGUF codecs (methods/gptq_codec.hpp): against an
// independent formulation (explicit inverse in double, column by column, the
// codec's block values fixed when the sweep reaches the block), its reduction
// to the plain codec when there is nothing to compensate, the layer error it
// exists to lower, and its refusals.
#include <catch2/catch.hpp>

#include <cstring>

#include "gptq_inputs.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/methods/gptq_codec.hpp"
#include "random_matrices.hpp"

using namespace libquant;
using namespace libquant::methods;

namespace {

std::vector<float> decode(DType t, const std::vector<std::byte>& data, size_t n) {
  std::vector<float> out(n);
  gguf::dequantize(t, data.data(), out.data(), static_cast<int64_t>(n));
  return out;
}

std::vector<std::byte> encode(DType t, const std::vector<float>& w, int64_t rows, int64_t cols,
                              const float* importance) {
  std::vector<std::byte> out(static_cast<size_t>(rows) * row_bytes(t, cols));
  gguf::quantize_rows(t, w.data(), out.data(), rows, cols, importance);
  return out;
}

// The reference: damped H inverted by Gauss-Jordan in double; per codec
// block, the block is encoded from the current values, then its columns are
// eliminated one by one (error / d moves every later column by the inverse's
// row, the inverse loses the column), as in the paper's OBQ.
std::vector<std::byte> reference_sweep(const std::vector<float>& w, int64_t rows, int64_t cols, std::vector<double> h,
                                       double damp, DType t) {
  std::vector<double> inv = test::damped_inverse(std::move(h), cols, damp);
  const auto block = static_cast<int64_t>(traits(t).block_size);
  const uint64_t rb = row_bytes(t, cols), bb = row_bytes(t, block);
  std::vector<double> wd(w.begin(), w.end());
  std::vector<std::byte> out(static_cast<size_t>(rows) * rb);
  std::vector<float> x(static_cast<size_t>(block)), q(static_cast<size_t>(block));
  std::vector<std::byte> bytes(bb);
  for (int64_t c0 = 0; c0 < cols; c0 += block) {
    std::vector<double> qv(static_cast<size_t>(rows * block));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < block; ++j)
        x[static_cast<size_t>(j)] = static_cast<float>(wd[static_cast<size_t>(r * cols + c0 + j)]);
      gguf::quantize_rows(t, x.data(), bytes.data(), 1, block, nullptr);
      gguf::dequantize(t, bytes.data(), q.data(), block);
      std::memcpy(out.data() + static_cast<uint64_t>(r) * rb + static_cast<uint64_t>(c0 / block) * bb, bytes.data(),
                  bb);
      for (int64_t j = 0; j < block; ++j) qv[static_cast<size_t>(r * block + j)] = q[static_cast<size_t>(j)];
    }
    for (int64_t i = c0; i < c0 + block; ++i) {
      const double d = inv[static_cast<size_t>(i * cols + i)];
      for (int64_t r = 0; r < rows; ++r) {
        const double err = (wd[static_cast<size_t>(r * cols + i)] - qv[static_cast<size_t>(r * block + i - c0)]) / d;
        for (int64_t j = i + 1; j < cols; ++j)
          wd[static_cast<size_t>(r * cols + j)] -= err * inv[static_cast<size_t>(i * cols + j)];
      }
      test::eliminate_column(inv, cols, i);
    }
  }
  return out;
}

double fraction_of_equal_blocks(const std::vector<std::byte>& a, const std::vector<std::byte>& b, uint64_t bb) {
  size_t same = 0;
  const size_t n = a.size() / bb;
  for (size_t k = 0; k < n; ++k) same += std::memcmp(a.data() + k * bb, b.data() + k * bb, bb) == 0;
  return static_cast<double>(same) / static_cast<double>(n);
}

GptqInverse inverse_of(const std::vector<double>& h, int64_t cols) { return gptq_inverse("w", h, cols, GptqOptions{}); }

}  // namespace

TEST_CASE("GPTQ with a codec equals the column-by-column OBQ formulation", "[gptq]") {
  const int64_t rows = 12, n = 768;
  for (DType t : {DType::Q4_0, DType::IQ4_NL, DType::Q4_K}) {
    const int64_t cols = traits(t).block_size == 256 ? 512 : 128;
    const auto x = test::correlated_inputs(n, cols, 21);
    const auto h = test::hessian_of(x, n, cols);
    const auto w = test::randn(static_cast<size_t>(rows * cols), 22, 0.05f);
    ThreadPool pool(2);
    const auto ours = gptq_codec_sweep("w", w.data(), rows, inverse_of(h, cols), t, nullptr, &pool);
    const auto ref = reference_sweep(w, rows, cols, h, GptqOptions{}.damp, t);
    INFO(traits(t).name);
    REQUIRE(ours.encoded.size() == ref.size());
    // Equal but for blocks where float rounding tips a value across a rounding boundary.
    CHECK(fraction_of_equal_blocks(ours.encoded, ref, row_bytes(t, traits(t).block_size)) > 0.97);
  }
}

TEST_CASE("GPTQ with a codec and nothing to compensate writes the codec's own bytes", "[gptq]") {
  const int64_t rows = 8, cols = 512;
  const auto w = test::randn(static_cast<size_t>(rows * cols), 4, 0.03f);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = 1.0 + i % 5;  // independent inputs
  std::vector<float> importance(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) importance[static_cast<size_t>(i)] = 0.5f + static_cast<float>(i % 9);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::IQ2_XS}) {
    // Legacy types weigh their blocks by the whole row's variance when given importance: block-local only without.
    const bool legacy = t == DType::Q8_0 || t == DType::Q4_0;
    const float* imp = legacy ? nullptr : importance.data();
    const auto g = gptq_codec_sweep("w", w.data(), rows, inverse_of(h, cols), t, imp);
    INFO(traits(t).name);
    CHECK(g.encoded == encode(t, w, rows, cols, imp));
  }
}

TEST_CASE("GPTQ with a codec lowers the layer output error below the codec alone", "[gptq]") {
  const int64_t rows = 16, cols = 512, n = 1536;
  const auto x = test::correlated_inputs(n, cols, 31);
  const auto h = test::hessian_of(x, n, cols);
  const auto w = test::randn(static_cast<size_t>(rows * cols), 32, 0.05f);
  const GptqInverse inv = inverse_of(h, cols);
  for (DType t : {DType::Q4_0, DType::Q3_K, DType::Q4_K, DType::IQ4_XS}) {
    const auto g = gptq_codec_sweep("w", w.data(), rows, inv, t, nullptr);
    const size_t count = static_cast<size_t>(rows * cols);
    const double with = test::layer_error(w, decode(t, g.encoded, count), h, rows, cols);
    const double without = test::layer_error(w, decode(t, encode(t, w, rows, cols, nullptr), count), h, rows, cols);
    INFO(traits(t).name << ": " << with << " vs " << without);
    CHECK(with < 0.8 * without);
    CHECK(g.loss > 0);
  }
}

TEST_CASE("GPTQ with a codec refuses what it cannot sweep", "[gptq]") {
  const int64_t rows = 2, cols = 64;
  const auto w = test::randn(static_cast<size_t>(rows * cols), 7, 0.1f);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = 1.0;
  const GptqInverse inv = inverse_of(h, cols);
  CHECK_THROWS_AS(gptq_codec_sweep("w", w.data(), rows, inv, DType::Q4_K, nullptr), Error);    // 64 < 256
  CHECK_THROWS_AS(gptq_codec_sweep("w", w.data(), rows, inv, DType::IQ2_XS, nullptr), Error);  // needs importance
  CHECK_THROWS_AS(gptq_codec_sweep("w", w.data(), rows, inv, DType::F16, nullptr), Error);     // not quantized
  GptqOptions act;
  act.act_order = ActOrder::Static;
  CHECK_THROWS_AS(gptq_codec_sweep("w", w.data(), rows, gptq_inverse("w", h, cols, act), DType::Q4_0, nullptr), Error);
}
