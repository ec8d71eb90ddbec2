// GPTQ and AWQ. GPTQ against an independent formulation (the paper's explicit inverse
// updates, in double, column by column, without Cholesky or blocks), its
// known reductions (H = I or diagonal: nothing to compensate, so round to
// nearest), the layer error it exists to lower, the Hessian collector, and
// the compressed-tensors integer scheme (min-max parameters, packing).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/methods/awq.hpp"
#include "libquant/methods/gptq.hpp"
#include "model/packed_weight.hpp"
#include "gptq_inputs.hpp"
#include "random_matrices.hpp"

using namespace libquant;
using namespace libquant::methods;
using test::correlated_inputs;
using test::hessian_of;

namespace {

// tr(D H D^T) for D = W - deq(Q): the layer's output error.
double layer_error(const std::vector<float>& w, const IntWeight& q, const std::vector<double>& h) {
  return test::layer_error(w, q.dequantize(), h, q.rows, q.cols);
}

// The paper's Optimal Brain Quantization step with per-channel scales from
// the original weights: quantize column i, move the others by the error
// times row i of the current inverse, then eliminate i from the inverse.
std::vector<int8_t> obq_reference(const std::vector<float>& w, int64_t rows, int64_t cols, std::vector<double> h,
                                  double damp, const IntWeightScheme& s) {
  std::vector<double> inv = test::damped_inverse(std::move(h), cols, damp);
  std::vector<double> wd(w.begin(), w.end());
  std::vector<float> scale(static_cast<size_t>(rows));
  std::vector<int> zero(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    int_qparams(w.data() + r * cols, cols, s, scale[static_cast<size_t>(r)], zero[static_cast<size_t>(r)]);
  std::vector<int8_t> q(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < cols; ++i) {
    const double d = inv[static_cast<size_t>(i * cols + i)];
    for (int64_t r = 0; r < rows; ++r) {
      const int v = quantize_int(static_cast<float>(wd[static_cast<size_t>(r * cols + i)]),
                                 scale[static_cast<size_t>(r)], zero[static_cast<size_t>(r)], s);
      q[static_cast<size_t>(r * cols + i)] = static_cast<int8_t>(v);
      const double err =
          (wd[static_cast<size_t>(r * cols + i)] -
           dequantize_int(v, scale[static_cast<size_t>(r)], zero[static_cast<size_t>(r)], s.scale_dtype)) /
          d;
      for (int64_t j = i + 1; j < cols; ++j)
        wd[static_cast<size_t>(r * cols + j)] -= err * inv[static_cast<size_t>(i * cols + j)];
    }
    test::eliminate_column(inv, cols, i);
  }
  return q;
}

double fraction_equal(const std::vector<int8_t>& a, const std::vector<int8_t>& b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

}  // namespace

TEST_CASE("GPTQ equals the explicit-inverse OBQ formulation", "[gptq]") {
  const int64_t rows = 24, cols = 96, n = 512;
  const auto x = correlated_inputs(n, cols, 11);
  const auto h = hessian_of(x, n, cols);
  const auto w = test::randn(static_cast<size_t>(rows * cols), 12, 0.05f);
  for (bool sym : {true, false}) {
    GptqOptions o;
    o.scheme = IntWeightScheme{4, -1, sym, DType::F32};
    o.block = 32;  // several lazy blocks
    ThreadPool pool(2);
    const auto ours = gptq_quantize("w", w.data(), rows, cols, h, o, &pool);
    const auto ref = obq_reference(w, rows, cols, h, o.damp, o.scheme);
    // Equal but for values within float rounding of a .5 boundary.
    CHECK(fraction_equal(ours.weight.q, ref) > 0.995);
  }
}

TEST_CASE("GPTQ with nothing to compensate is round to nearest", "[gptq]") {
  const int64_t rows = 16, cols = 64;
  const auto w = test::randn(static_cast<size_t>(rows * cols), 3, 0.02f);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i)
    h[static_cast<size_t>(i * cols + i)] = 1.0 + i % 7;  // diagonal: independent inputs
  for (int bits : {2, 3, 4, 8})
    for (int64_t group : {int64_t{-1}, int64_t{16}, int64_t{32}}) {
      GptqOptions o;
      o.scheme = IntWeightScheme{bits, group, bits != 3, DType::BF16};
      const auto g = gptq_quantize("w", w.data(), rows, cols, h, o);
      const auto r = rtn_quantize(w.data(), rows, cols, o.scheme);
      CHECK(g.weight.q == r.q);
      CHECK(g.weight.scales == r.scales);
      CHECK(g.weight.zeros == r.zeros);
    }
}

TEST_CASE("GPTQ lowers the layer output error below round to nearest", "[gptq]") {
  const int64_t rows = 32, cols = 128, n = 1024;
  const auto x = correlated_inputs(n, cols, 5);
  const auto h = hessian_of(x, n, cols);
  const auto w = test::randn(static_cast<size_t>(rows * cols), 6, 0.05f);
  for (ActOrder order : {ActOrder::None, ActOrder::Static, ActOrder::Group})
    for (int64_t group : {int64_t{-1}, int64_t{32}}) {
      GptqOptions o;
      o.scheme = IntWeightScheme{4, group, true, DType::F16};
      o.act_order = order;
      const auto g = gptq_quantize("w", w.data(), rows, cols, h, o);
      const auto r = rtn_quantize(w.data(), rows, cols, o.scheme);
      INFO("act order " << static_cast<int>(order) << ", group " << group);
      CHECK(layer_error(w, g.weight, h) < 0.8 * layer_error(w, r, h));
      // Dynamic activation-order groups map columns through g_idx; the others keep natural groups.
      CHECK(g.weight.g_idx.empty() == (order != ActOrder::Group || group < 0));
      if (!g.weight.g_idx.empty()) {
        std::vector<int> per_group(static_cast<size_t>(cols / group), 0);
        for (int32_t gi : g.weight.g_idx) ++per_group.at(static_cast<size_t>(gi));
        CHECK(std::all_of(per_group.begin(), per_group.end(), [&](int c) { return c == group; }));
      }
    }
}

TEST_CASE("GPTQ handles dead inputs and refuses a Hessian it cannot invert", "[gptq]") {
  const int64_t rows = 4, cols = 8;
  const auto w = test::randn(static_cast<size_t>(rows * cols), 9, 0.1f);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = i == 3 ? 0.0 : 2.0;
  GptqOptions o;
  o.scheme = IntWeightScheme{4, -1, true, DType::F32};
  const auto g = gptq_quantize("w", w.data(), rows, cols, h, o);
  CHECK(g.dead_columns == 1);
  for (int64_t r = 0; r < rows; ++r) CHECK(g.weight.q[static_cast<size_t>(r * cols + 3)] == 0);
  // Negative definite: no damping up to 100x helps.
  for (auto& v : h) v = 0;
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = -1.0;
  try {
    gptq_quantize("blk.7.attn_q.weight", w.data(), rows, cols, h, o);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::SmoothQuantFailed);
    CHECK(std::string(e.what()).find("blk.7.attn_q.weight") != std::string::npos);
  }
  o.scheme.group_size = 3;
  CHECK_THROWS_AS(gptq_quantize("w", w.data(), rows, cols, h, o), Error);
}

TEST_CASE("the Hessian collector counts a shared input once", "[gptq]") {
  const int64_t n = 6, cols = 4;
  const auto x = test::randn(static_cast<size_t>(n * cols), 21);
  HessianCollector hc({"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_output.weight"});
  for (int pass = 0; pass < 2; ++pass) {  // two batches of the same rows
    hc.on_input({0, "blk.0.attn_q.weight", x.data(), n, cols});
    hc.on_input({0, "blk.0.attn_k.weight", x.data(), n, cols});
    hc.on_input({0, "blk.0.attn_output.weight", x.data(), n, cols});
    hc.on_input({0, "blk.0.ffn_down.weight", x.data(), n, cols});  // not wanted
  }
  const auto expect = hessian_of(x, n, cols);
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_output.weight"}) {
    const auto h = hc.hessian(name);
    REQUIRE(h.size() == expect.size());
    CHECK(hc.tokens(name) == 2 * n);
    for (size_t i = 0; i < h.size(); ++i) CHECK(h[i] == Approx(expect[i]).epsilon(1e-5).margin(1e-6));
  }
  CHECK(hc.hessian("blk.0.ffn_down.weight").empty());
}

TEST_CASE("integer parameters follow compressed-tensors' min-max rules", "[gptq]") {
  const float x[4] = {-0.7f, 0.1f, 0.3f, 0.35f};
  float scale;
  int zero;
  int_qparams(x, 4, IntWeightScheme{4, -1, true, DType::F32}, scale, zero);
  CHECK(scale == Approx(0.7f / 7.5f));
  CHECK(zero == 0);
  CHECK(quantize_int(-0.7f, scale, 0, IntWeightScheme{4, -1, true, DType::F32}) == -8);  // -7.5 rounds to even
  int_qparams(x, 4, IntWeightScheme{4, -1, false, DType::F32}, scale, zero);
  CHECK(scale == Approx(1.05f / 15));
  CHECK(zero == static_cast<int>(std::nearbyint(-8 + 0.7f / scale)));
  // The range always holds zero; a zero range takes the dtype's epsilon.
  const float pos[2] = {0.5f, 1.0f}, nil[2] = {0, 0};
  int_qparams(pos, 2, IntWeightScheme{8, -1, false, DType::F32}, scale, zero);
  CHECK(zero == -128);
  int_qparams(nil, 2, IntWeightScheme{4, -1, true, DType::BF16}, scale, zero);
  CHECK(scale == 0.0078125f);
  // Scales are what the checkpoint can store.
  int_qparams(x, 4, IntWeightScheme{4, -1, true, DType::BF16}, scale, zero);
  CHECK(scale == bf16_to_f32(f32_to_bf16(0.7f / 7.5f)));
}

TEST_CASE("packing and unpacking return the same integers for every width", "[gptq]") {
  for (int bits : {2, 3, 4, 8})
    for (int64_t n : {1, 7, 32, 33, 100}) {
      std::vector<int8_t> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        v[static_cast<size_t>(i)] = static_cast<int8_t>((i * 7 + bits) % (1 << bits) - (1 << (bits - 1)));
      std::vector<int32_t> words(static_cast<size_t>(model::packed_words(n, bits)));
      model::pack_values(v.data(), n, bits, words.data());
      std::vector<int8_t> back(static_cast<size_t>(n));
      model::unpack_values(words.data(), n, bits, back.data());
      CHECK(back == v);
    }
}

TEST_CASE("AWQ's grid, scales and weight term follow llm-compressor's definitions", "[awq]") {
  const auto grid = awq_grid(20);
  REQUIRE(grid.size() == 20);
  CHECK(grid[0] == std::pair<double, bool>{0.0, false});
  CHECK(grid[1] == std::pair<double, bool>{0.0, true});
  CHECK(grid[19] == std::pair<double, bool>{1.0, true});
  CHECK(grid[10].first == Approx(9.0 / 18));
  const std::vector<float> x = {4.0f, 1.0f, 0.25f}, w = {0.5f, 0.5f, 1.0f};
  // Plain r = 1: s = x, normalised by sqrt(4 * 0.25) = 1.
  const auto s1 = awq_scales(x, w, 1.0, false);
  CHECK(s1[0] == Approx(4.0f));
  CHECK(s1[2] == Approx(0.25f));
  // r = 0 without the weight term: all ones (no scaling).
  for (float v : awq_scales(x, w, 0.0, false)) CHECK(v == 1.0f);
  // Duo r = 0.5: sqrt(x) / (sqrt(w) + 1e-4), then normalised.
  const auto s2 = awq_scales(x, w, 0.5, true);
  std::vector<double> raw = {2.0 / (std::sqrt(0.5) + 1e-4), 1.0 / (std::sqrt(0.5) + 1e-4), 0.5 / (1.0 + 1e-4)};
  const double norm = std::sqrt(raw[0] * raw[2]);
  for (size_t j = 0; j < 3; ++j) CHECK(s2[j] == Approx(raw[j] / norm).epsilon(1e-5));
  // Weight term: |w| over its group's max, averaged over rows.
  const float wm[2 * 4] = {1, -2, 4, 0, 2, 1, -1, 0.5f};
  std::vector<double> sum;
  int64_t count = 0;
  accumulate_weight_mean(wm, 2, 4, 2, sum, count);
  CHECK(count == 2);
  CHECK(sum[0] / count == Approx((0.5 + 1.0) / 2).epsilon(1e-5));
  CHECK(sum[1] == Approx(1.0 + 0.5).epsilon(1e-5));
  CHECK(sum[2] == Approx(1.0 + 1.0).epsilon(1e-5));
  CHECK(sum[3] == Approx(0.0 + 0.5).epsilon(1e-5));
}

TEST_CASE("AWQ balances v -> o only where v's rows are o's columns", "[awq]") {
  model::ModelConfig cfg;
  cfg.architecture = "LlamaForCausalLM";
  cfg.num_layers = 2;
  cfg.num_heads = cfg.num_kv_heads = 4;
  auto g = awq_groups(cfg);
  REQUIRE(g.size() == 8);
  CHECK(g[1].norm == "blk.0.attn_v.weight");
  CHECK(g[1].linears == std::vector<std::string>{"blk.0.attn_output.weight"});
  CHECK(g[3].norm == "blk.0.ffn_up.weight");
  cfg.num_kv_heads = 2;  // grouped-query attention
  g = awq_groups(cfg);
  CHECK(g.size() == 6);
  for (const auto& x : g) CHECK(x.norm.find("attn_v") == std::string::npos);
}

TEST_CASE("the activation-mean collector averages |x| per input channel", "[awq]") {
  const float x[2 * 3] = {1, -2, 0, -3, 2, 1};
  ActivationMeanCollector c({"blk.0.attn_q.weight"});
  c.on_input({0, "blk.0.attn_q.weight", x, 2, 3});
  c.on_input({0, "blk.0.ffn_up.weight", x, 2, 3});
  const auto m = c.mean("blk.0.attn_q.weight");
  REQUIRE(m.size() == 3);
  CHECK(m[0] == 2.0f);
  CHECK(m[1] == 2.0f);
  CHECK(m[2] == 0.5f);
  CHECK(c.mean("blk.0.ffn_up.weight").empty());
}

TEST_CASE("a Hessian retried with more damping gives what that damping gives at once", "[gptq]") {
  const int64_t rows = 6, cols = 12;
  const auto w = test::randn(static_cast<size_t>(rows * cols), 31, 0.1f);
  const auto x = test::randn(static_cast<size_t>(cols), 32);
  std::vector<double> h(static_cast<size_t>(cols * cols));
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) h[static_cast<size_t>(i * cols + j)] = double(x[i]) * x[j];  // rank 1: singular
  GptqOptions o;
  o.scheme = IntWeightScheme{4, -1, true, DType::F32};
  o.damp = 0;
  const auto retried = gptq_quantize("w", w.data(), rows, cols, h, o);
  CHECK(retried.damp_used == Approx(0.1));
  o.damp = 0.1;
  const auto direct = gptq_quantize("w", w.data(), rows, cols, h, o);
  CHECK(direct.damp_used == 0.1);
  CHECK(retried.weight.q == direct.weight.q);
  CHECK(retried.loss == direct.loss);
}
