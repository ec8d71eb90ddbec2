// LittleBit block-output matching: the decoder block's hand-written backward
// against central finite differences, its forward against the evaluation
// engine's run_layer on the real stories260K model, and the block stage
// lowering the block output error of Dual-SVID factors on that model.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "libquant/eval/decoder_block_grad.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/methods/littlebit_block.hpp"
#include "libquant/model/tensor_source.hpp"
#include "random_matrices.hpp"
#include "test_helpers.hpp"

using namespace libquant;

namespace {

using test::randn;

// A small block with everything switched on: GQA, q/k/v biases, neox RoPE
// with per-frequency factors.
eval::DecoderBlockConstants synthetic_block() {
  eval::DecoderBlockConstants c;
  c.hidden = 16;
  c.heads = 4;
  c.kv_heads = 2;
  c.head_dim = 4;
  c.ff = 24;
  c.eps = 1e-5;
  c.rope_theta = 100;
  c.neox = true;
  c.rope_freqs = {1.0f, 2.5f};
  c.attn_norm = randn(16, 1, 0.3f);
  c.ffn_norm = randn(16, 2, 0.3f);
  for (auto& v : c.attn_norm) v += 1.0f;
  for (auto& v : c.ffn_norm) v += 1.0f;
  c.bq = randn(16, 3, 0.1f);
  c.bk = randn(8, 4, 0.1f);
  c.bv = randn(8, 5, 0.1f);
  return c;
}

std::array<std::vector<float>, eval::kBlockLinears> model_weights(const model::TensorSource& src, int layer) {
  std::array<std::vector<float>, eval::kBlockLinears> w;
  for (int i = 0; i < eval::kBlockLinears; ++i) {
    const auto* t = src.find("blk." + std::to_string(layer) + "." + eval::block_linear_names()[i]);
    REQUIRE(t != nullptr);
    Tensor f = src.read_f32(*t);
    w[i].assign(f.data_as<float>(), f.data_as<float>() + f.shape().numel());
  }
  return w;
}

std::array<const float*, eval::kBlockLinears> pointers(const std::array<std::vector<float>, eval::kBlockLinears>& w) {
  std::array<const float*, eval::kBlockLinears> p{};
  for (int i = 0; i < eval::kBlockLinears; ++i) p[i] = w[i].data();
  return p;
}

}  // namespace

TEST_CASE("decoder block gradients match finite differences", "[littlebit][block]") {
  const auto c = synthetic_block();
  const int64_t B = 2, T = 6, N = B * T, d = c.hidden, qd = 16, kvd = 8, ff = c.ff;
  const int64_t outs[] = {qd, kvd, kvd, d, ff, ff, d}, ins[] = {d, d, d, qd, d, d, ff};
  std::array<std::vector<float>, eval::kBlockLinears> w;
  for (int i = 0; i < eval::kBlockLinears; ++i)
    w[i] = randn(static_cast<size_t>(outs[i] * ins[i]), 10 + i, 0.6f / std::sqrt(static_cast<float>(ins[i])));
  const auto x = randn(static_cast<size_t>(N * d), 20, 1.0f);
  const auto target = randn(static_cast<size_t>(N * d), 21, 1.0f);
  eval::DecoderBlockGrad block(c, B, T);
  block.forward(x.data(), pointers(w), nullptr);
  std::array<std::vector<float>, eval::kBlockLinears> dw;
  const double loss = block.backward(target.data(), &dw);
  REQUIRE(loss > 0.1);
  for (int i = 0; i < eval::kBlockLinears; ++i) {
    // Directional derivative along a random direction: <dW, D> vs (L(W + eD) - L(W - eD)) / 2e.
    const auto dir = randn(w[i].size(), 30 + i, 1.0f);
    double analytic = 0;
    for (size_t j = 0; j < dir.size(); ++j) analytic += double(dw[i][j]) * dir[j];
    const float e = 1e-3f;
    auto plus = w, minus = w;
    for (size_t j = 0; j < dir.size(); ++j) {
      plus[i][j] += e * dir[j];
      minus[i][j] -= e * dir[j];
    }
    block.forward(x.data(), pointers(plus), nullptr);
    const double lp = block.backward(target.data(), nullptr);
    block.forward(x.data(), pointers(minus), nullptr);
    const double lm = block.backward(target.data(), nullptr);
    const double numeric = (lp - lm) / (2 * e);
    INFO("linear " << eval::block_linear_names()[i] << ": analytic " << analytic << ", numeric " << numeric);
    CHECK(std::abs(analytic - numeric) <= 2e-3 * std::abs(numeric) + 1e-4);
  }
}

TEST_CASE("decoder block forward equals the evaluation engine on stories260K", "[littlebit][block]") {
  auto src = model::open_tensor_source(test::shared_dir() / "models/stories260K");
  eval::Transformer tf(*src);
  const std::vector<std::vector<int32_t>> tokens{{1, 403, 407, 261, 378, 309, 270, 16}, {1, 88, 57, 300, 12, 99, 7, 5}};
  auto h = tf.embed(tokens);
  for (int layer : {0, 3}) {
    auto next = h;
    tf.run_layer(layer, next);
    const auto w = model_weights(*src, layer);
    eval::DecoderBlockGrad block(eval::load_block_constants(*src, layer), h.batch, h.seq);
    std::vector<float> y(h.h.size());
    block.forward(h.h.data(), pointers(w), y.data());
    double err = 0, ref = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      err = std::max(err, double(std::abs(y[i] - next.h[i])));
      ref = std::max(ref, double(std::abs(next.h[i])));
    }
    INFO("layer " << layer << ": max |diff| " << err << " of max " << ref);
    CHECK(err <= 1e-5 * ref);
    // The same weights reproduce the target: no error.
    CHECK(block.backward(next.h.data(), nullptr) < 1e-10);
    h = std::move(next);
  }
}

TEST_CASE("block-output matching lowers the block error of Dual-SVID factors", "[littlebit][block]") {
  auto src = model::open_tensor_source(test::shared_dir() / "models/stories260K");
  eval::Transformer tf(*src);
  std::vector<std::vector<int32_t>> tokens(3, std::vector<int32_t>(24));
  std::mt19937 rng(5);
  for (auto& s : tokens)
    for (auto& t : s) t = static_cast<int32_t>(rng() % 500);
  const int layer = 1;
  auto x = tf.embed(tokens);
  tf.run_layer(0, x);
  auto target = x;
  tf.run_layer(layer, target);
  const auto w = model_weights(*src, layer);
  std::array<std::vector<methods::LittleBitLatent>, 7> lat;
  std::array<std::vector<methods::LittleBitLatent>*, 7> ptrs{};
  const int64_t outs[] = {64, 32, 32, 64, 172, 172, 64}, ins[] = {64, 64, 64, 64, 64, 64, 172};
  for (int i = 0; i < 7; ++i) {
    methods::LittleBitInitOptions init;
    init.rank = 8;
    lat[i] = methods::dual_svid_init(w[i].data(), outs[i], ins[i], init);
    ptrs[i] = &lat[i];
  }
  const auto dense = [&] {
    std::array<std::vector<float>, 7> r;
    for (int i = 0; i < 7; ++i) r[i] = methods::binarize(lat[i]).reconstruct();
    return r;
  };
  const auto before_w = dense();
  const double before =
      methods::decoder_block_output_error(*src, layer, pointers(before_w), x.h.data(), target.h.data(), x.batch, x.seq);
  methods::LittleBitBlockOptions o;
  o.steps = 30;
  const auto st = methods::refine_littlebit_block(*src, layer, ptrs, x.h.data(), target.h.data(), x.batch, x.seq, o);
  const auto after_w = dense();
  const double after =
      methods::decoder_block_output_error(*src, layer, pointers(after_w), x.h.data(), target.h.data(), x.batch, x.seq);
  INFO("block error " << before << " -> " << after << " (stage: " << st.loss_before << " -> " << st.loss_after << ")");
  CHECK(st.loss_before == Approx(before).epsilon(1e-2));
  CHECK(after < 0.7 * before);
  CHECK(after == Approx(st.loss_after).epsilon(2e-2));  // f16 scales change little
}
