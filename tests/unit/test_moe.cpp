// Mixture of experts: the config keys of Mixtral / Qwen-MoE, the per-expert
// HF names and the stacked GGUF tensor they join, and per-expert importance
// statistics with their two llama.cpp file layouts (values computed here by
// hand from known activations, not by the code under test).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "test_helpers.hpp"

using namespace libquant;
using namespace libquant::model;
using libquant::methods::ImportanceMatrix;

namespace {
std::string moe_config(const std::string& arch, const std::string& extra) {
  return R"({"architectures": [")" + arch + R"("], "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512)" +
         extra + "}";
}

ErrorCode code_of(const std::string& json) {
  try {
    parse_hf_config(json);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Success;
}
}  // namespace

TEST_CASE("MoE configs: expert counts, widths, shared expert, renormalisation", "[moe]") {
  const ModelConfig mixtral =
      parse_hf_config(moe_config("MixtralForCausalLM", R"(, "num_local_experts": 8, "num_experts_per_tok": 2)"));
  CHECK(mixtral.is_moe());
  CHECK(mixtral.num_experts == 8);
  CHECK(mixtral.num_experts_used == 2);
  CHECK(mixtral.expert_intermediate_size == 128);  // Mixtral's experts are intermediate_size wide
  CHECK(mixtral.expert_weights_norm);              // Mixtral always renormalises
  CHECK(mixtral.shared_expert_intermediate_size == 0);
  CHECK_FALSE(plain_decoder_block(mixtral));

  const ModelConfig qwen2 = parse_hf_config(moe_config(
      "Qwen2MoeForCausalLM",
      R"(, "num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 48, "norm_topk_prob": false)"));
  CHECK(qwen2.num_experts == 60);
  CHECK(qwen2.expert_intermediate_size == 32);
  CHECK(qwen2.shared_expert_intermediate_size == 48);
  CHECK_FALSE(qwen2.expert_weights_norm);

  // transformers 5 writes Qwen3-MoE's count as num_local_experts.
  const ModelConfig qwen3 = parse_hf_config(moe_config(
      "Qwen3MoeForCausalLM",
      R"(, "num_local_experts": 128, "num_experts_per_tok": 8, "moe_intermediate_size": 768, "norm_topk_prob": true)"));
  CHECK(qwen3.num_experts == 128);
  CHECK(qwen3.expert_weights_norm);

  CHECK(code_of(moe_config("MixtralForCausalLM", R"(, "num_local_experts": 8, "num_experts_per_tok": 9)")) ==
        ErrorCode::ValidationFailed);
  CHECK(code_of(moe_config("MixtralForCausalLM", R"(, "num_local_experts": 8)")) == ErrorCode::ValidationFailed);
  CHECK(code_of(moe_config("Qwen2MoeForCausalLM",
                           R"(, "num_experts": 8, "num_experts_per_tok": 2, "decoder_sparse_step": 2)")) ==
        ErrorCode::UnsupportedConversion);
  CHECK(code_of(moe_config("Qwen3MoeForCausalLM",
                           R"(, "num_experts": 8, "num_experts_per_tok": 2, "mlp_only_layers": [0])")) ==
        ErrorCode::UnsupportedConversion);
}

TEST_CASE("MoE names: experts join stacks, routers and shared experts map one to one", "[moe]") {
  auto q = hf_expert_tensor("model.layers.3.mlp.experts.17.down_proj.weight");
  REQUIRE(q);
  CHECK(q->gguf_name == "blk.3.ffn_down_exps.weight");
  CHECK(q->expert == 17);
  auto m = hf_expert_tensor("model.layers.0.block_sparse_moe.experts.5.w3.weight");
  REQUIRE(m);
  CHECK(m->gguf_name == "blk.0.ffn_up_exps.weight");
  CHECK(m->expert == 5);
  CHECK(hf_expert_tensor("model.layers.0.block_sparse_moe.experts.5.w1.weight")->gguf_name ==
        "blk.0.ffn_gate_exps.weight");
  for (const char* not_one :
       {"model.layers.0.mlp.experts.x.down_proj.weight", "model.layers.0.mlp.experts.-1.up_proj.weight",
        "model.layers.0.mlp.experts.1.down_proj.bias", "model.layers.0.mlp.experts.1.w1.weight",
        "model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.experts.1.down_proj.weight.x",
        "model.layers.0.mlp.experts.gate_up_proj"})
    CHECK_FALSE(hf_expert_tensor(not_one));
  CHECK(hf_to_gguf_name("model.layers.1.mlp.gate.weight") == "blk.1.ffn_gate_inp.weight");
  CHECK(hf_to_gguf_name("model.layers.1.block_sparse_moe.gate.weight") == "blk.1.ffn_gate_inp.weight");
  CHECK(hf_to_gguf_name("model.layers.1.mlp.shared_expert.down_proj.weight") == "blk.1.ffn_down_shexp.weight");
  CHECK(hf_to_gguf_name("model.layers.1.mlp.shared_expert_gate.weight") == "blk.1.ffn_gate_inp_shexp.weight");
  CHECK(hf_to_gguf_name("model.layers.1.mlp.gate_proj.weight") == "blk.1.ffn_gate.weight");  // dense FFN unchanged
}

namespace {
// Expert e of 3 sees rows of value (e + 1) * (j + 1) in column j; expert 2 none.
ImportanceMatrix three_experts(int rows0, int rows1) {
  ImportanceMatrix m;
  m.chunk_size = 4;
  m.chunks = 2;
  for (int e = 0; e < 2; ++e) {
    const int rows = e == 0 ? rows0 : rows1;
    std::vector<float> x(static_cast<size_t>(rows) * 2);
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < 2; ++j) x[static_cast<size_t>(r * 2 + j)] = static_cast<float>((e + 1) * (j + 1));
    m.accumulate_expert("blk.0.ffn_up_exps.weight", e, 3, x.data(), rows, 2);
  }
  return m;
}
}  // namespace

TEST_CASE("per-expert importance: sums and counts per expert, 1 where no token went", "[moe][imatrix]") {
  const ImportanceMatrix m = three_experts(5, 2);
  const auto* e = m.find("blk.0.ffn_up_exps.weight");
  REQUIRE(e);
  CHECK(e->expert_counts == std::vector<int64_t>{5, 2, 0});
  CHECK(e->count == 7);
  CHECK(e->sums == std::vector<float>{5, 20, 8, 32, 0, 0});
  CHECK(e->mean() == std::vector<float>{1, 4, 4, 16, 1, 1});

  SECTION("GGUF layout keeps sums and counts per expert") {
    const auto path = test::scratch_dir("moe-imatrix") / "m.gguf";
    m.save_gguf(path);
    const auto g = ImportanceMatrix::load(path);
    const auto* ge = g.find("blk.0.ffn_up_exps.weight");
    REQUIRE(ge);
    CHECK(ge->expert_counts == e->expert_counts);
    CHECK(ge->sums == e->sums);
  }
  SECTION("legacy layout: mean x ncall, ncall from the busiest expert (ceil(5 / 4) = 2), 1 x ncall for none") {
    const auto path = test::scratch_dir("moe-imatrix") / "m.dat";
    m.save_legacy(path);
    const auto l = ImportanceMatrix::load(path);
    const auto* le = l.find("blk.0.ffn_up_exps.weight");
    REQUIRE(le);
    CHECK(le->ncall == 2);
    CHECK(le->sums == std::vector<float>{2, 8, 8, 32, 2, 2});
    CHECK(le->mean() == std::vector<float>{1, 4, 4, 16, 1, 1});
  }
  SECTION("merging adds each expert's sums and counts") {
    ImportanceMatrix a = three_experts(5, 2);
    a.merge(three_experts(1, 0));
    const auto* ae = a.find("blk.0.ffn_up_exps.weight");
    CHECK(ae->expert_counts == std::vector<int64_t>{6, 2, 0});
    CHECK(ae->sums == std::vector<float>{6, 24, 8, 32, 0, 0});
  }
  SECTION("a different expert count is refused") {
    ImportanceMatrix a = three_experts(1, 1);
    std::vector<float> x = {1, 1};
    CHECK_THROWS_AS(a.accumulate_expert("blk.0.ffn_up_exps.weight", 0, 4, x.data(), 1, 2), Error);
    CHECK_THROWS_AS(a.accumulate_expert("blk.0.ffn_up_exps.weight", 3, 3, x.data(), 1, 2), Error);
  }
}
