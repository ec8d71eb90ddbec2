// Phi-3, Granite and Command-R configs as transformers 5 writes them: the
// values each family's forward needs, the fused Phi-3 names both ways, and
// the refusals (wrong LongRoPE lengths -> ValidationFailed naming the key,
// Command R+'s q/k LayerNorms -> UnsupportedConversion).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_naming.hpp"

using namespace libquant;
using namespace libquant::model;

namespace {
ErrorCode code_of(const std::string& json, std::string* message = nullptr) {
  try {
    parse_hf_config(json);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ErrorCode::Success;
}
}  // namespace

TEST_CASE("Phi-3: partial rotary, LongRoPE factors and attention factor, window, fused names", "[naming]") {
  const auto c = parse_hf_config(R"({"architectures":["Phi3ForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,"max_position_embeddings":1024,
    "original_max_position_embeddings":64,"sliding_window":48,
    "rope_parameters":{"rope_type":"longrope","rope_theta":10000.0,"partial_rotary_factor":0.75,
                       "short_factor":[1,1,2,2,3,3],"long_factor":[2,2,4,4,6,8]}})");
  REQUIRE(c.arch()->gguf_arch == "phi3");
  REQUIRE(c.rotary_dims() == 12);
  REQUIRE(c.rope_long_factors.size() == 6);
  REQUIRE(c.rope_long_factors[5] == 8.0f);
  REQUIRE(c.rope_original_context == 64);
  REQUIRE(c.rope_attn_factor == Approx(std::sqrt(1 + std::log(16.0) / std::log(64.0))));
  REQUIRE(c.sliding_window == 48);
  REQUIRE(c.is_local_layer(0));
  REQUIRE(c.is_local_layer(1));  // every layer
  REQUIRE_FALSE(plain_decoder_block(c));
  for (const auto& [hf, gg] : {std::pair{"model.layers.1.self_attn.qkv_proj.weight", "blk.1.attn_qkv.weight"},
                               std::pair{"model.layers.1.mlp.gate_up_proj.weight", "blk.1.ffn_up.weight"}}) {
    REQUIRE(hf_to_gguf_name(hf, c.arch()) == std::string(gg));
    REQUIRE(gguf_to_hf_name(gg, c.arch()) == std::string(hf));
  }
  REQUIRE(gguf_to_hf_name("blk.1.ffn_up.weight") == std::string("model.layers.1.mlp.up_proj.weight"));  // Llama's
  std::string message;
  REQUIRE(code_of(R"({"architectures":["Phi3ForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,"original_max_position_embeddings":64,
    "rope_scaling":{"type":"su","short_factor":[1,1],"long_factor":[2,2]}})",
                  &message) == ErrorCode::ValidationFailed);
  REQUIRE(message.find("long_factor") != std::string::npos);
}

TEST_CASE("Granite: multipliers, head size from the width", "[naming]") {
  const auto c = parse_hf_config(R"({"architectures":["GraniteForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,"head_dim":32,"embedding_multiplier":12.0,
    "residual_multiplier":0.22,"attention_multiplier":0.0078125,"logits_scaling":8.0})");
  REQUIRE(c.arch()->gguf_arch == "granite");
  REQUIRE(c.head_dim == 16);  // transformers and the converter ignore head_dim
  REQUIRE(c.embedding_scale == 12.0);
  REQUIRE(c.residual_scale == 0.22);
  REQUIRE(c.attention_scale == 0.0078125);
  REQUIRE(c.logit_scale == 0.125);
  REQUIRE(code_of(R"({"architectures":["GraniteForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,"logits_scaling":0})") ==
          ErrorCode::ValidationFailed);
}

TEST_CASE("Command-R: LayerNorm epsilon, logit scale, tied output; q/k LayerNorms refused", "[naming]") {
  const auto c = parse_hf_config(R"({"architectures":["CohereForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,"layer_norm_eps":1e-5,"logit_scale":0.0625,
    "max_position_embeddings":8192,"model_max_length":131072})");
  REQUIRE(c.arch()->gguf_arch == "command-r");
  REQUIRE(c.arch()->layer_norm);
  REQUIRE(c.arch()->parallel_block);
  REQUIRE(c.rms_norm_eps == 1e-5);
  REQUIRE(c.logit_scale == 0.0625);
  REQUIRE(c.tie_word_embeddings);
  REQUIRE(c.max_position_embeddings == 131072);  // as the converter: the trained context
  std::string message;
  REQUIRE(code_of(R"({"architectures":["CohereForCausalLM"],"hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300,"use_qk_norm":true})",
                  &message) == ErrorCode::UnsupportedConversion);
  REQUIRE(message.find("use_qk_norm") != std::string::npos);
  // A key every family needs, missing: ValidationFailed naming it.
  REQUIRE(code_of(R"({"architectures":["CohereForCausalLM"],"hidden_size":64,"num_hidden_layers":2,
    "num_attention_heads":4,"vocab_size":300})",
                  &message) == ErrorCode::ValidationFailed);
  REQUIRE(message.find("intermediate_size") != std::string::npos);
}
