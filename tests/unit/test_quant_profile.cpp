// .dqprofile parsing and matching: good files parse and round-trip, bad ones
// are refused with ProfileInvalid (13) naming the problem, presets hold the
// documented rules.
#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/methods/quant_profile.hpp"

using namespace libquant;
using namespace libquant::methods;

namespace {
ErrorCode code_of(const std::string& json) {
  try {
    parse_profile(json);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Success;
}
}  // namespace

TEST_CASE("a complete profile parses, matches in order and round-trips", "[profile]") {
  const std::string json = R"J({"format": "libquant.dqprofile", "version": 1, "profile_name": "mine",
    "description": "test", "strategy": "custom", "default_type": "q4_k", "target_bpw": 3.5,
    "candidates": ["Q3_K", "Q4_K", "Q6_K"],
    "rules": [{"class": "attn_v", "layers": [0, 1], "type": "Q8_0"},
              {"class": "attn_v", "type": "Q6_K"},
              {"tensor": "ffn_(up|gate)", "layers": [-2, -1], "type": "Q5_K"},
              {"class": "output", "type": "Q6_K"}]})J";
  const QuantProfile p = parse_profile(json);
  CHECK(p.name == "mine");
  CHECK(p.default_type == DType::Q4_K);
  CHECK(p.target_bpw == 3.5);
  CHECK(p.candidates.size() == 3);
  REQUIRE(p.rules.size() == 4);
  CHECK(match_rule(p, "blk.1.attn_v.weight", 10) == DType::Q8_0);
  CHECK(match_rule(p, "blk.2.attn_v.weight", 10) == DType::Q6_K);
  CHECK(match_rule(p, "blk.8.ffn_up.weight", 10) == DType::Q5_K);  // -2 = layer 8 of 10
  CHECK(match_rule(p, "blk.7.ffn_gate.weight", 10) == std::nullopt);
  CHECK(match_rule(p, "blk.9.ffn_down.weight", 10) == std::nullopt);
  CHECK(match_rule(p, "output.weight", 10) == DType::Q6_K);
  CHECK(matching_rule(p, "blk.0.attn_v.weight", 10) == 0u);
  const QuantProfile again = parse_profile(profile_to_json(p));
  CHECK(profile_to_json(again) == profile_to_json(p));
}

TEST_CASE("tensor classes follow GGUF names", "[profile]") {
  CHECK(tensor_in_class("blk.3.attn_output.weight", "attention"));
  CHECK(tensor_in_class("blk.3.attn_output.weight", "attn_output"));
  CHECK_FALSE(tensor_in_class("blk.3.attn_norm.weight", "attention"));
  CHECK_FALSE(tensor_in_class("blk.3.attn_q.weight", "attn_v"));
  CHECK(tensor_in_class("blk.12.ffn_down.weight", "mlp"));
  CHECK(tensor_in_class("token_embd.weight", "token_embd"));
  CHECK(tensor_layer("blk.12.ffn_down.weight") == 12);
  CHECK(tensor_layer("output.weight") == -1);
}

TEST_CASE("bad profiles are refused with exit code 13", "[profile]") {
  CHECK(code_of("not json") == ErrorCode::ProfileInvalid);
  CHECK(code_of("[1]") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"rules": []})J") == ErrorCode::ProfileInvalid);          // no name
  CHECK(code_of(R"J({"profile_name": "x"})J") == ErrorCode::ProfileInvalid);  // nothing to do
  CHECK(code_of(R"J({"profile_name": "x", "default_type": "Q9_K"})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "default_type": "Q4_K", "colour": 1})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "rules": [{"class": "attn_z", "type": "Q4_K"}]})J") ==
        ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "rules": [{"tensor": "(", "type": "Q4_K"}]})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "rules": [{"class": "mlp"}]})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "rules": [{"layers": [1], "type": "Q4_K"}]})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "target_bpw": 40})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "version": 2, "default_type": "Q4_K"})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "layer_assignments": []})J") == ErrorCode::ProfileInvalid);
  CHECK(code_of(R"J({"profile_name": "x", "default_type": "Q4_K"})J") == ErrorCode::Success);
  CHECK_THROWS_AS(load_profile("no-such-profile"), Error);
}

TEST_CASE("presets hold the documented rules", "[profile]") {
  const QuantProfile a = load_profile("attention-high");
  CHECK(match_rule(a, "blk.0.attn_q.weight", 4) == DType::Q4_K);
  CHECK(match_rule(a, "blk.3.attn_output.weight", 4) == DType::Q4_K);
  CHECK(match_rule(a, "blk.2.ffn_up.weight", 4) == DType::Q2_K);
  CHECK(match_rule(a, "blk.2.ffn_down.weight", 4) == DType::Q2_K);
  const QuantProfile b = load_profile("balanced");
  CHECK(match_rule(b, "blk.1.attn_v.weight", 8) == DType::Q6_K);
  CHECK(match_rule(b, "blk.5.attn_v.weight", 8) == DType::Q5_K);
  CHECK(match_rule(b, "blk.5.ffn_down.weight", 8) == DType::Q5_K);
  CHECK(match_rule(b, "blk.5.attn_q.weight", 8) == std::nullopt);
  CHECK(b.default_type == DType::Q4_K);
  const QuantProfile c = load_profile("compression-max");
  CHECK(c.default_type == DType::Q2_K);
  CHECK(match_rule(c, "blk.5.ffn_down.weight", 8) == DType::Q3_K);
  // presets print as valid .dqprofile documents
  for (const auto& p : preset_profiles()) CHECK(parse_profile(profile_to_json(p)).rules.size() == p.rules.size());
}
