#include <numeric>

#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "test_helpers.hpp"

using namespace libquant;
using namespace libquant::model;

TEST_CASE("HF names map to llama.cpp's GGUF names and back", "[naming]") {
  const std::pair<const char*, const char*> cases[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
      {"model.layers.12.self_attn.q_proj.weight", "blk.12.attn_q.weight"},
      {"model.layers.3.self_attn.k_proj.bias", "blk.3.attn_k.bias"},
      {"model.layers.3.self_attn.v_proj.weight", "blk.3.attn_v.weight"},
      {"model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
      {"model.layers.3.self_attn.q_norm.weight", "blk.3.attn_q_norm.weight"},
      {"model.layers.3.post_attention_layernorm.weight", "blk.3.ffn_norm.weight"},
      {"model.layers.3.mlp.gate_proj.weight", "blk.3.ffn_gate.weight"},
      {"model.layers.3.mlp.up_proj.weight", "blk.3.ffn_up.weight"},
      {"model.layers.31.mlp.down_proj.weight", "blk.31.ffn_down.weight"},
  };
  for (const auto& [hf, gg] : cases) {
    REQUIRE(hf_to_gguf_name(hf) == std::string(gg));
    REQUIRE(gguf_to_hf_name(gg) == std::string(hf));
  }
  REQUIRE_FALSE(hf_to_gguf_name("model.layers.0.self_attn.rotary_emb.inv_freq"));
  REQUIRE(is_ignored_hf_tensor("model.layers.0.self_attn.rotary_emb.inv_freq"));
  REQUIRE_FALSE(hf_to_gguf_name("model.layers.x.mlp.up_proj.weight"));
  REQUIRE_FALSE(hf_to_gguf_name("model.layers.1.mlp.unknown.weight"));
  REQUIRE(gguf_layer_index("blk.7.attn_q.weight") == 7);
  REQUIRE_FALSE(gguf_layer_index("token_embd.weight"));
  REQUIRE(qk_permute_kind("blk.1.attn_q.weight") == QkPermute::Query);
  REQUIRE(qk_permute_kind("blk.1.attn_k.bias") == QkPermute::Key);
  REQUIRE(qk_permute_kind("blk.1.attn_v.weight") == QkPermute::None);
}

TEST_CASE("Q/K permutation equals llama.cpp's reshape/swapaxes and inverts", "[naming]") {
  // 2 heads of 6 rows, 3 columns; rows labelled by index.
  const int64_t heads = 2, rows = 12, cols = 3;
  std::vector<int32_t> src(rows * cols);
  std::iota(src.begin(), src.end(), 0);
  std::vector<int32_t> dst(src.size()), back(src.size());
  permute_qk_rows(reinterpret_cast<const std::byte*>(src.data()), reinterpret_cast<std::byte*>(dst.data()), rows,
                  cols * sizeof(int32_t), heads);
  // reshape(h, 2, d/2) -> swapaxes(1,2): dst row (h, i, j) = src row (h, j, i), d/2 = 3
  const int expected_rows[] = {0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11};
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) REQUIRE(dst[r * cols + c] == expected_rows[r] * cols + c);
  unpermute_qk_rows(reinterpret_cast<const std::byte*>(dst.data()), reinterpret_cast<std::byte*>(back.data()), rows,
                    cols * sizeof(int32_t), heads);
  REQUIRE(back == src);
  REQUIRE_THROWS_AS(permute_qk_rows(nullptr, nullptr, 10, 4, 3), Error);
}

TEST_CASE("config.json parsing", "[config]") {
  const ModelConfig c = load_hf_config(test::shared_dir() / "models/stories260K/config.json");
  REQUIRE(c.architecture == "LlamaForCausalLM");
  REQUIRE(c.hidden_size == 64);
  REQUIRE(c.intermediate_size == 172);
  REQUIRE(c.num_layers == 5);
  REQUIRE(c.num_heads == 8);
  REQUIRE(c.num_kv_heads == 4);
  REQUIRE(c.head_dim == 8);
  REQUIRE(c.vocab_size == 512);
  REQUIRE(c.rms_norm_eps == Approx(1e-5));
  REQUIRE(c.tie_word_embeddings);
  REQUIRE(c.bos_token_id == 1);
  REQUIRE(c.arch()->permute_qk);

  const auto qwen2 =
      parse_hf_config(R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,
    "num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"vocab_size":151936,"eos_token_id":[151645,151643]})");
  REQUIRE(qwen2.attention_bias);
  REQUIRE_FALSE(qwen2.arch()->permute_qk);
  REQUIRE(qwen2.head_dim == 64);
  REQUIRE(qwen2.eos_token_id == 151645);
  const auto qwen3 =
      parse_hf_config(R"({"architectures":["Qwen3ForCausalLM"],"hidden_size":1024,"intermediate_size":3072,
    "num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,"vocab_size":151936})");
  REQUIRE(qwen3.arch()->qk_norm);
  REQUIRE(qwen3.head_dim == 128);
  REQUIRE(parse_hf_config(R"({"architectures":["MistralForCausalLM"],"hidden_size":4096,"intermediate_size":14336,
    "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000})")
              .arch()
              ->gguf_arch == "llama");

  auto code_of = [](const char* json) {
    try {
      parse_hf_config(json);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Success;
  };
  REQUIRE(code_of("{") == ErrorCode::ValidationFailed);
  REQUIRE(code_of(R"({"architectures":["LlamaForCausalLM"]})") == ErrorCode::ValidationFailed);
  REQUIRE(code_of(R"({"architectures":["GPTNeoXForCausalLM"],"hidden_size":1})") == ErrorCode::UnsupportedConversion);
  REQUIRE(code_of(R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":1,"num_hidden_layers":1,
    "num_attention_heads":8,"num_key_value_heads":3,"vocab_size":5})") == ErrorCode::ValidationFailed);
}

TEST_CASE("Gemma 3: its four norms keep their own GGUF names; its config gives the local-attention layout",
          "[naming]") {
  const auto g = parse_hf_config(R"({"architectures":["Gemma3ForCausalLM"],"hidden_size":640,"intermediate_size":2048,
    "num_hidden_layers":4,"num_attention_heads":4,"num_key_value_heads":1,"head_dim":256,"vocab_size":262144,
    "sliding_window":512,"query_pre_attn_scalar":256,
    "layer_types":["sliding_attention","sliding_attention","full_attention","sliding_attention"],
    "rope_parameters":{"full_attention":{"rope_theta":1000000.0,"rope_type":"default"},
                       "sliding_attention":{"rope_theta":10000.0,"rope_type":"default"}}})");
  const ArchitectureInfo* arch = g.arch();
  REQUIRE(arch->gguf_arch == "gemma3");
  REQUIRE(g.tie_word_embeddings);  // Gemma's default
  REQUIRE(g.sliding_window == 512);
  REQUIRE(g.is_local_layer(0));
  REQUIRE_FALSE(g.is_local_layer(2));
  REQUIRE(g.rope_theta == 1e6);
  REQUIRE(g.rope_theta_local == 1e4);
  REQUIRE(g.attention_scale == Approx(1.0 / 16));
  const std::pair<const char*, const char*> cases[] = {
      {"model.layers.2.input_layernorm.weight", "blk.2.attn_norm.weight"},
      {"model.layers.2.post_attention_layernorm.weight", "blk.2.post_attention_norm.weight"},
      {"model.layers.2.pre_feedforward_layernorm.weight", "blk.2.ffn_norm.weight"},
      {"model.layers.2.post_feedforward_layernorm.weight", "blk.2.post_ffw_norm.weight"},
      {"model.layers.2.self_attn.k_norm.weight", "blk.2.attn_k_norm.weight"},
  };
  for (const auto& [hf, gg] : cases) {
    REQUIRE(hf_to_gguf_name(hf, arch) == std::string(gg));
    REQUIRE(gguf_to_hf_name(gg, arch) == std::string(hf));
  }
  // Without the family, post_attention_layernorm is Llama's FFN input norm.
  REQUIRE(hf_to_gguf_name("model.layers.2.post_attention_layernorm.weight") == std::string("blk.2.ffn_norm.weight"));
  // Gemma 2: every other layer local, one RoPE base, soft-caps from the config.
  const auto g2 = parse_hf_config(R"({"architectures":["Gemma2ForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":4,"num_attention_heads":4,"head_dim":16,"vocab_size":300,"sliding_window":4096,
    "query_pre_attn_scalar":16,"attn_logit_softcapping":50.0,"final_logit_softcapping":30.0,"rope_theta":10000.0})");
  REQUIRE(g2.is_local_layer(0));
  REQUIRE_FALSE(g2.is_local_layer(1));
  REQUIRE(g2.rope_theta_local == g2.rope_theta);
  REQUIRE(g2.attn_logit_softcap == 50.0);
  REQUIRE(g2.final_logit_softcap == 30.0);
  // A family we do not know: exit 8 naming it and the supported list.
  try {
    parse_hf_config(R"({"architectures":["StableLmForCausalLM"],"hidden_size":64,"intermediate_size":128,
      "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300})");
    FAIL("accepted");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::UnsupportedConversion);
    REQUIRE(std::string(e.what()).find("StableLmForCausalLM") != std::string::npos);
    REQUIRE(e.suggestion().find("Gemma2ForCausalLM") != std::string::npos);
  }
}

TEST_CASE("transformers 5 configs: rope_theta and scaling inside rope_parameters", "[naming]") {
  const auto llama = parse_hf_config(R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,
    "rope_parameters":{"rope_theta":500000.0,"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
                       "high_freq_factor":4.0,"original_max_position_embeddings":8192}})");
  REQUIRE(llama.rope_theta == 500000.0);
  REQUIRE(llama.rope_scaling_type == "llama3");
  REQUIRE(llama.rope_scaling_factor == 8.0);
  REQUIRE(llama.rope_original_context == 8192);
  const auto olmo = parse_hf_config(R"({"architectures":["Olmo2ForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,
    "rope_parameters":{"rope_theta":50000.0,"rope_type":"default"}})");
  REQUIRE(olmo.rope_theta == 50000.0);
  REQUIRE_FALSE(olmo.rope_scaling_type);
  REQUIRE_FALSE(olmo.arch()->pre_norms);
  REQUIRE(hf_to_gguf_name("model.layers.1.post_feedforward_layernorm.weight", olmo.arch()) ==
          std::string("blk.1.post_ffw_norm.weight"));
}
