// The calibration hook sees every linear layer's input with the weight's
// input width, once per weight, and the inputs equal an independent
// recomputation (attn_norm of the embeddings for layer 0's q/k/v).
#include <cmath>
#include <map>

#include <catch2/catch.hpp>

#include "libquant/calib/linear_hook.hpp"
#include "libquant/eval/transformer.hpp"
#include "test_helpers.hpp"

using namespace libquant;

namespace {
struct Recorder : calib::LinearHook {
  bool output = false;
  std::map<std::string, std::pair<int64_t, int64_t>> shapes;
  std::map<std::string, std::vector<float>> first;
  void on_input(const calib::LinearInput& in) override {
    shapes[std::string(in.weight)] = {in.rows, in.cols};
    if (in.layer == 0) first[std::string(in.weight)].assign(in.x, in.x + in.rows * in.cols);
  }
  bool wants_output_layer() const override { return output; }
};
}  // namespace

TEST_CASE("linear hook sees every weight's input", "[calib]") {
  auto src = model::open_tensor_source(test::shared_dir() / "models/stories260K");
  eval::ForwardOptions tf_options;
  tf_options.streaming = true;
  tf_options.threads = 1;
  eval::Transformer tf(*src, tf_options);
  Recorder rec;
  rec.output = true;
  const std::vector<int32_t> ids = {1, 403, 407, 261, 378, 66, 1, 9};
  tf.forward({ids, ids}, 0, &rec);
  REQUIRE(rec.shapes.size() == 5 * 7 + 1);
  for (const auto& t : src->tensors()) {
    if (t.shape.rank() != 2 || t.name == "token_embd.weight") continue;
    INFO(t.name);
    REQUIRE(rec.shapes.count(t.name));
    REQUIRE(rec.shapes[t.name].first == 16);                     // 2 sequences x 8 tokens
    REQUIRE(rec.shapes[t.name].second == t.shape.row_length());  // the weight's input width
  }
  REQUIRE(rec.shapes["output.weight"] == std::make_pair(int64_t{16}, int64_t{64}));
  // Layer 0's attention input = RMSNorm(embedding) * attn_norm, recomputed here.
  const Tensor emb = src->read_f32(*src->find("token_embd.weight"));
  const Tensor norm = src->read_f32(*src->find("blk.0.attn_norm.weight"));
  const auto& x = rec.first["blk.0.attn_q.weight"];
  for (int t = 0; t < 8; ++t) {
    const float* e = emb.data_as<float>() + ids[t] * 64;
    double ss = 0;
    for (int i = 0; i < 64; ++i) ss += static_cast<double>(e[i]) * e[i];
    const double s = 1.0 / std::sqrt(ss / 64 + 1e-5);
    for (int i = 0; i < 64; ++i) REQUIRE(x[t * 64 + i] == Approx(e[i] * s * norm.data_as<float>()[i]).margin(1e-6));
  }
  REQUIRE(rec.first["blk.0.attn_k.weight"] == x);
}
