// DynamicQuantizer's pieces: stored sizes, measured options, and the budgeted
// allocation checked against an exhaustive search on small instances.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "libquant/core/error.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/methods/dynamic_quantizer.hpp"
#include "libquant/methods/super_weights.hpp"

#include <filesystem>

using namespace libquant;
using methods::QuantOption;
using methods::TensorOptions;

TEST_CASE("stored_bytes follows the block layouts and the alignment", "[dynamic]") {
  // Q4_K: 144 bytes per 256; Q8_0: 34 bytes per 32; Q4_0: 18 per 32.
  CHECK(methods::stored_bytes(DType::Q4_K, 3, 512) == 864);
  CHECK(methods::stored_bytes(DType::Q8_0, 1, 32) == 64);  // 34 padded to 64
  CHECK(methods::stored_bytes(DType::Q4_0, 2, 64, 1) == 72);
  CHECK(methods::fits_row(DType::Q4_K, 512));
  CHECK_FALSE(methods::fits_row(DType::Q4_K, 576));
  CHECK(methods::fits_row(DType::IQ4_NL, 576));
}

TEST_CASE("measured options form a Pareto front scaled to the whole tensor", "[dynamic]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t rows = 8, cols = 256;
  std::vector<float> w(rows * cols), imp(cols);
  for (auto& x : w) x = nd(rng);
  for (auto& x : imp) x = std::abs(nd(rng)) + 0.1f;
  const auto all = methods::default_dynamic_candidates();
  const auto front = methods::measure_options(w.data(), rows, rows, cols, imp.data(), all);
  REQUIRE(front.size() >= 5);
  for (size_t i = 1; i < front.size(); ++i) {
    CHECK(front[i].bytes > front[i - 1].bytes);
    CHECK(front[i].error < front[i - 1].error);
  }
  // The same rows standing for a 4x taller tensor: 4x the bytes and the error.
  const auto tall = methods::measure_options(w.data(), rows, 4 * rows, cols, imp.data(), all);
  REQUIRE(tall.size() == front.size());
  for (size_t i = 0; i < front.size(); ++i) {
    CHECK(tall[i].bytes == methods::stored_bytes(tall[i].type, 4 * rows, cols));
    CHECK_THAT(tall[i].error, Catch::Matchers::WithinRel(4 * front[i].error, 1e-9));
  }
  // Q8_0's error, computed here by hand from the codec's round trip.
  std::vector<std::byte> enc(row_bytes(DType::Q8_0, cols) * rows);
  std::vector<float> dec(w.size());
  gguf::quantize_rows(DType::Q8_0, w.data(), enc.data(), rows, cols, imp.data());
  gguf::dequantize(DType::Q8_0, enc.data(), dec.data(), rows * cols);
  double e = 0;
  for (int64_t i = 0; i < rows * cols; ++i) e += imp[i % cols] * (w[i] - dec[i]) * double(w[i] - dec[i]);
  const auto q8 = methods::measure_options(w.data(), rows, rows, cols, imp.data(), {DType::Q8_0});
  REQUIRE(q8.size() == 1);
  CHECK_THAT(q8[0].error, Catch::Matchers::WithinRel(e, 1e-9));
  // Without importance data the i-quants that need it are not offered.
  for (const auto& o : methods::measure_options(w.data(), rows, rows, cols, nullptr, all))
    CHECK((o.type != DType::IQ2_XXS && o.type != DType::IQ2_XS && o.type != DType::IQ2_S));
}

namespace {
// Exhaustive minimum damage under the budget (small instances only).
double brute_force(const std::vector<TensorOptions>& ts, uint64_t budget, size_t i = 0, uint64_t used = 0) {
  if (i == ts.size()) return 0;
  double best = INFINITY;
  for (const auto& o : ts[i].options)
    if (used + o.bytes <= budget)
      best = std::min(best, ts[i].sensitivity * o.error + brute_force(ts, budget, i + 1, used + o.bytes));
  return best;
}

std::vector<TensorOptions> random_instance(std::mt19937& rng, size_t n) {
  std::vector<TensorOptions> ts;
  std::uniform_real_distribution<double> u(0.2, 1.0);
  for (size_t t = 0; t < n; ++t) {
    TensorOptions to;
    to.name = "t" + std::to_string(t);
    double err = 100 * u(rng);
    uint64_t bytes = 64 * (1 + rng() % 4);
    for (int k = 0; k < 5; ++k) {
      to.options.push_back({DType::Q4_0, bytes, err});
      bytes += 32 * (1 + rng() % 6);
      err *= u(rng) * 0.8;
    }
    to.sensitivity = u(rng);
    ts.push_back(std::move(to));
  }
  return ts;
}
}  // namespace

TEST_CASE("allocation never exceeds the budget and equals the exhaustive optimum", "[dynamic]") {
  std::mt19937 rng(11);
  double worst_gap = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const auto ts = random_instance(rng, 5);
    uint64_t lo = 0, hi = 0;
    for (const auto& t : ts) lo += t.options.front().bytes, hi += t.options.back().bytes;
    const uint64_t budget = lo + rng() % (hi - lo + 1);
    const auto a = methods::allocate_bits(ts, budget);
    REQUIRE(a.bytes <= budget);
    const double opt = brute_force(ts, budget);
    REQUIRE(a.damage >= opt - 1e-9);
    worst_gap = std::max(worst_gap, (a.damage - opt) / opt);
  }
  // Sizes here are multiples of 32 bytes and the budget is small, so the
  // knapsack is exact: the allocation is the optimum.
  CHECK(worst_gap < 1e-12);
}

TEST_CASE("allocation uses the whole budget when the largest options fit, and refuses an impossible one", "[dynamic]") {
  std::vector<TensorOptions> ts(2);
  ts[0] = {"a", {}, {{DType::Q2_K, 100, 10.0}, {DType::Q4_K, 200, 2.0}, {DType::Q8_0, 400, 0.1}}, 1.0};
  ts[1] = {"b", {}, {{DType::Q2_K, 100, 50.0}, {DType::Q4_K, 200, 5.0}, {DType::Q8_0, 400, 1.0}}, 1.0};
  // 400 bytes: both at Q4_K (damage 7) is the best split; at 300 only b's upgrade (gain 45) fits.
  auto a = methods::allocate_bits(ts, 400);
  CHECK(a.types.at("a") == DType::Q4_K);
  CHECK(a.types.at("b") == DType::Q4_K);
  CHECK(a.bytes == 400);
  a = methods::allocate_bits(ts, 300);
  CHECK(a.types.at("a") == DType::Q2_K);
  CHECK(a.types.at("b") == DType::Q4_K);
  a = methods::allocate_bits(ts, 800);
  CHECK(a.types.at("a") == DType::Q8_0);
  CHECK(a.types.at("b") == DType::Q8_0);
  CHECK_THROWS_AS(methods::allocate_bits(ts, 199), Error);
}

TEST_CASE("the super-weight file reader accepts the writer's output and rejects broken files", "[dynamic]") {
  methods::SuperWeight w;
  w.tensor = "blk.1.ffn_down.weight";
  w.layer = 1, w.row = 5, w.col = 3, w.value = -4.375f, w.activation = 263.3f, w.kind = "activation_spike";
  methods::SaliencyMask mask;
  mask.coverage = 0.001;
  mask.indices["blk.0.attn_q.weight"] = {1, 17};
  mask.shapes["blk.0.attn_q.weight"] = {4, 8};
  const auto path = std::filesystem::temp_directory_path() / "libquant_sw_test.json";
  methods::save_super_weights(path, "m.gguf", {w}, mask);
  const auto f = methods::load_super_weights(path);
  std::filesystem::remove(path);
  REQUIRE(f.found.size() == 1);
  CHECK(f.found[0].tensor == w.tensor);
  CHECK(f.found[0].row == 5);
  CHECK(f.found[0].col == 3);
  CHECK(f.found[0].value == -4.375f);
  CHECK(f.mask.indices.at("blk.0.attn_q.weight") == std::vector<int64_t>{1, 17});
  CHECK(f.model == "m.gguf");
  const auto code = [](const std::string& j) {
    try {
      methods::parse_super_weights(j);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Success;
  };
  CHECK(code("{}") == ErrorCode::ImatrixInvalid);
  CHECK(code(R"J({"format": "libquant.super_weights", "version": 1, "super_weights": [{"tensor": "t", "layer": 0,
    "row": -1, "col": 0}]})J") == ErrorCode::ImatrixInvalid);
  CHECK(code(R"J({"format": "libquant.super_weights", "version": 1, "super_weights": [],
    "masks": {"t": {"shape": [2, 2], "indices": [3, 1]}}})J") == ErrorCode::ImatrixInvalid);
  CHECK(code(R"J({"format": "libquant.super_weights", "version": 1, "super_weights": []})J") == ErrorCode::Success);
}
