// compressed-tensors quantization_config: round trip, the W8A8 preset as
// compressed-tensors 0.20 writes it (keys sorted), config.json rewriting,
// scheme lookup and the runnable check.
#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/io/compressed_tensors.hpp"

using namespace libquant::io;

TEST_CASE("the W8A8 preset is written as compressed-tensors writes it", "[compressed_tensors]") {
  const std::string j = compressed_tensors_config_json(CompressedTensorsConfig::w8a8(true), 0);
  // Captured from compressed_tensors 0.20.1 (the pinned oracle): ModelCompressor(W8A8 preset).update_config, minified.
  CHECK(j == R"J({"config_groups":{"group_0":{"format":null,"input_activations":{"dynamic":true,"group_size":null,)J"
             R"J("num_bits":8,"strategy":"token","symmetric":true,"type":"int"},"output_activations":null,)J"
             R"J("targets":["Linear"],"weights":{"dynamic":false,"group_size":null,"num_bits":8,"strategy":"channel",)J"
             R"J("symmetric":true,"type":"int"}}},"format":"int-quantized","global_compression_ratio":null,)J"
             R"J("ignore":["lm_head"],"kv_cache_scheme":null,"moe_sparsity_config":null,)J"
             R"J("quant_method":"compressed-tensors","quantization_status":"compressed","sparsity_config":{},)J"
             R"J("transform_config":{},"version":"0.20.1"})J");
  const auto back = parse_compressed_tensors_config(j);
  REQUIRE(back.groups.size() == 1);
  CHECK(back.groups[0].input_activations->strategy == "token");
  CHECK(back.groups[0].input_activations->dynamic);
  CHECK(back.ignore == std::vector<std::string>{"lm_head"});
  CHECK(is_runnable_w8a8(back.groups[0]));
}

TEST_CASE("config.json keeps its keys, sorted, with the quantization config", "[compressed_tensors]") {
  const std::string out = config_json_with_quantization(
      R"({"vocab_size": 512, "architectures": ["LlamaForCausalLM"], "rope_scaling": null, "quantization_config": {"x": 1}, "eps": 1e-05})",
      CompressedTensorsConfig::w8a8(false));
  const auto a = out.find("\"architectures\""), e = out.find("\"eps\""), q = out.find("\"quantization_config\""),
             r = out.find("\"rope_scaling\""), v = out.find("\"vocab_size\"");
  CHECK((a < e && e < q && q < r && r < v));
  CHECK(out.find("\"x\"") == std::string::npos);
  CHECK(out.find("\"strategy\": \"tensor\"") != std::string::npos);
  CHECK(out.back() == '\n');
}

TEST_CASE("schemes are found by target and ignore lists; unsupported ones are named", "[compressed_tensors]") {
  auto qc = CompressedTensorsConfig::w8a8(true);
  CtScheme wonly;
  wonly.targets = {"re:.*down_proj$"};
  wonly.weights = CtQuantArgs{};
  qc.groups.insert(qc.groups.begin(), wonly);
  CHECK(scheme_for(qc, "lm_head") == nullptr);
  CHECK(scheme_for(qc, "model.layers.0.mlp.down_proj") == &qc.groups[0]);
  CHECK(scheme_for(qc, "model.layers.0.mlp.up_proj") == &qc.groups[1]);
  std::string why;
  CHECK_FALSE(is_runnable_w8a8(qc.groups[0], &why));
  CHECK(why.find("weight-only") != std::string::npos);
  CHECK_THROWS_AS(parse_compressed_tensors_config(R"({"quant_method": "gptq"})"), libquant::Error);
  CHECK_THROWS_AS(parse_compressed_tensors_config(R"({"quant_method": "compressed-tensors", "config_groups": 3})"),
                  libquant::Error);
  CHECK_THROWS_AS(parse_compressed_tensors_config("{"), libquant::Error);
}
