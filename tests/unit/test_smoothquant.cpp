// SmoothQuant: the scale formula worked by hand, smoothing leaves the float
// model's function unchanged (logits of the smoothed model against the
// original's), and the W8A8 output error is what a direct computation gives.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "libquant/core/thread_pool.hpp"
#include "libquant/cpu/int8_gemm.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/methods/smoothquant.hpp"
#include "libquant/model/overlay_source.hpp"
#include "test_helpers.hpp"

using namespace libquant;

TEST_CASE("smoothing scales follow s = max|X|^a / max|W|^(1-a) with the reference clamps", "[smoothquant]") {
  const std::vector<float> act = {4.0f, 9.0f, 0.0f, 100.0f}, w = {1.0f, 0.25f, 2.0f, 0.0f};
  const auto s = methods::smoothing_scales(act, w, 0.5);
  CHECK(s[0] == Approx(2.0));                               // sqrt(4) / sqrt(1)
  CHECK(s[1] == Approx(6.0));                               // 3 / 0.5
  CHECK(s[2] == Approx(std::sqrt(1e-5) / std::sqrt(2.0)));  // activation clamped to 1e-5
  CHECK(s[3] == Approx(10.0 / std::sqrt(1e-5)));            // weight clamped to 1e-5
  const auto s1 = methods::smoothing_scales(act, w, 1.0);
  CHECK(s1[1] == Approx(9.0));
  const auto s0 = methods::smoothing_scales(act, w, 0.0);
  CHECK(s0[1] == Approx(4.0));  // 1 / 0.25
}

TEST_CASE("the smoothing groups are the reference's, plus down_proj on request", "[smoothquant]") {
  const auto g = methods::smoothing_groups(2);
  REQUIRE(g.size() == 4);
  CHECK(g[0].norm == "blk.0.attn_norm.weight");
  CHECK(g[0].linears == std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight"});
  CHECK(g[1].norm == "blk.0.ffn_norm.weight");
  CHECK(g[1].linears == std::vector<std::string>{"blk.0.ffn_gate.weight", "blk.0.ffn_up.weight"});
  const auto d = methods::smoothing_groups(1, true);
  REQUIRE(d.size() == 3);
  CHECK(d[2].norm == "blk.0.ffn_up.weight");
  CHECK(d[2].linears == std::vector<std::string>{"blk.0.ffn_down.weight"});
  CHECK(methods::is_w8a8_linear("blk.3.ffn_down.weight"));
  CHECK_FALSE(methods::is_w8a8_linear("blk.3.ffn_norm.weight"));
  CHECK_FALSE(methods::is_w8a8_linear("output.weight"));
}

namespace {
std::vector<std::vector<int32_t>> token_rows(int n, int len, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(3, 511);
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(n), std::vector<int32_t>(static_cast<size_t>(len)));
  for (auto& row : out) {
    row[0] = 1;
    for (size_t i = 1; i < row.size(); ++i) row[i] = d(rng);
  }
  return out;
}
}  // namespace

TEST_CASE("smoothing leaves the float model's logits unchanged", "[smoothquant]") {
  for (const char* model : {"models/stories260K", "models/stories260K.gguf"}) {
    auto src = model::open_tensor_source(test::shared_dir() / model);
    for (std::optional<double> alpha :
         {std::optional<double>(0.5), std::optional<double>(0.85), std::optional<double>()}) {
      INFO(model << " alpha " << (alpha ? std::to_string(*alpha) : "auto"));
      methods::SmoothQuantOptions o;
      o.alpha = alpha;
      o.smooth_down = !alpha;  // the search case also folds down_proj's scales into up_proj's rows
      o.threads = 1;
      methods::SmoothQuantQuantizer sq(*src, o);
      sq.calibrate(token_rows(4, 64, 3), 2);
      sq.plan();
      int smoothed = 0;
      for (const auto& g : sq.groups()) smoothed += g.scales.empty() ? 0 : 1;
      CHECK(smoothed > 0);
      // The smoothed model, every changed tensor replaced, run in f32.
      model::OverlaySource over(*src);
      for (const auto& t : src->tensors()) {
        const Tensor f = sq.smoothed_f32(t);
        if (t.dtype != DType::F32) continue;
        over.replace(t.name, std::vector<float>(f.data_as<float>(), f.data_as<float>() + f.shape().numel()));
      }
      eval::ForwardOptions fo;
      fo.threads = 1;
      const auto tokens = token_rows(2, 48, 11);
      const auto want = eval::Transformer(*src, fo).forward(tokens);
      const auto got = eval::Transformer(over, fo).forward(tokens);
      REQUIRE(got.size() == want.size());
      double worst = 0, scale = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(got[i] - want[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
      }
      CHECK(worst <= 1e-4 * scale);
    }
  }
}

TEST_CASE("the W8A8 output error is the direct computation's", "[smoothquant]") {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t rows = 6, cols = 40, out = 5;
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = nd(rng);
  x[3] = 60.0f;  // an outlier channel
  Tensor w(DType::F32, Shape({out, cols}));
  for (int64_t i = 0; i < out * cols; ++i) w.data_as<float>()[i] = nd(rng) * 0.1f;
  std::vector<float> s(cols);
  for (auto& v : s) v = 0.5f + std::fabs(nd(rng));
  ThreadPool pool(1);
  const Tensor* ws[] = {&w};
  const double got = methods::w8a8_output_error(ws, x.data(), rows, cols, s, pool);
  // Direct: fake-quantized operands in double, per token relative error, averaged.
  double sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> xs(cols);
    for (int64_t c = 0; c < cols; ++c) xs[c] = x[r * cols + c] / s[c];
    float amax = 0;
    for (float v : xs) amax = std::max(amax, std::fabs(v));
    const float sx = cpu::int8_scale(amax);
    double e = 0, n = 0;
    for (int64_t o = 0; o < out; ++o) {
      std::vector<float> wr(cols);
      float wmax = 0;
      for (int64_t c = 0; c < cols; ++c) {
        wr[c] = w.data_as<float>()[o * cols + c] * s[c];
        wmax = std::max(wmax, std::fabs(wr[c]));
      }
      const float sw = cpu::int8_scale(wmax);
      double yq = 0, y = 0;
      for (int64_t c = 0; c < cols; ++c) {
        yq += double(cpu::quantize_int8(xs[c], sx)) * sx * double(cpu::quantize_int8(wr[c], sw)) * sw;
        y += double(x[r * cols + c]) * w.data_as<float>()[o * cols + c];
      }
      e += (yq - y) * (yq - y);
      n += y * y;
    }
    sum += e / n;
  }
  CHECK(got == Approx(sum / rows).epsilon(1e-4));
  // Without smoothing the outlier costs more precision.
  CHECK(methods::w8a8_output_error(ws, x.data(), rows, cols, {}, pool) > 0);
}

TEST_CASE("smoothing groups follow each family's norms", "[smoothquant]") {
  auto config = [](const char* arch) {
    return model::parse_hf_config(std::string(R"({"architectures":[")") + arch +
                                  R"("],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,
                                  "num_attention_heads":4,"vocab_size":300})");
  };
  const auto cohere = methods::smoothing_groups(config("CohereForCausalLM"), true);
  REQUIRE(cohere.size() == 2);  // one norm feeds both branches
  CHECK(cohere[0].norm == "blk.0.attn_norm.weight");
  CHECK(cohere[0].linears == std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.attn_k.weight",
                                                      "blk.0.attn_v.weight", "blk.0.ffn_gate.weight",
                                                      "blk.0.ffn_up.weight"});
  CHECK(cohere[1].norm == "blk.0.ffn_up.weight");
  const auto phi3 = methods::smoothing_groups(config("Phi3ForCausalLM"), true);
  REQUIRE(phi3.size() == 2);  // no down group: gate and up share a weight
  CHECK(phi3[0].linears == std::vector<std::string>{"blk.0.attn_qkv.weight"});
  CHECK(phi3[1].norm == "blk.0.ffn_norm.weight");
  CHECK(methods::unsmoothed_inputs(config("Phi3ForCausalLM"), true).size() == 1);
  const auto olmo = methods::smoothing_groups(config("Olmo2ForCausalLM"), true);
  REQUIRE(olmo.size() == 1);  // no input norms: only down_proj's input
  CHECK(olmo[0].linears == std::vector<std::string>{"blk.0.ffn_down.weight"});
  CHECK(methods::smoothing_groups(config("GraniteForCausalLM"), false).size() == 2);  // the Llama groups
  CHECK(methods::is_w8a8_linear("blk.0.attn_qkv.weight"));
}
