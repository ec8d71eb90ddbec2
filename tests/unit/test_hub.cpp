// Hub references and the hub's model answer: what is accepted, and that
// hostile names and hashes are refused before they could become paths.
#include <catch2/catch.hpp>

#include <string>

#include "libquant/core/error.hpp"
#include "libquant/io/hub.hpp"

using namespace libquant;
using namespace libquant::io;

TEST_CASE("hub references: org/name[@revision][:QUANT]", "[hub]") {
  auto r = parse_hub_model_ref("HuggingFaceTB/SmolLM2-135M");
  REQUIRE(r);
  CHECK(r->repo_id == "HuggingFaceTB/SmolLM2-135M");
  CHECK(r->revision == "main");
  CHECK(r->quant.empty());
  r = parse_hub_model_ref("unsloth/gemma-3-270m-it-GGUF@v1.0:Q4_K_M");
  REQUIRE(r);
  CHECK(r->repo_id == "unsloth/gemma-3-270m-it-GGUF");
  CHECK(r->revision == "v1.0");
  CHECK(r->quant == "Q4_K_M");
  r = parse_hub_model_ref("org/name@refs/pr/1");
  REQUIRE(r);
  CHECK(r->revision == "refs/pr/1");
  CHECK(parse_hub_model_ref("org/name:Q8_0")->quant == "Q8_0");
  // Paths and malformed names are not hub ids.
  for (const char* not_hub :
       {"model.gguf", "./org/name", "/abs/path", "dir/model.gguf", "dir/model.safetensors", "org/na--me", "org/..",
        "org/name/extra", "org/name@", "org/name:", "a b/c", "org/-x", "org/name:Q4 K", "", "/"})
    CHECK_FALSE(parse_hub_model_ref(not_hub));
}

namespace {
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kSha256 = "aa" + std::string(62, 'b');

std::string listing(const std::string& sibling) {
  return R"({"id": "org/m", "sha": ")" + kCommit + R"(", "siblings": [)" + sibling + "]}";
}

ErrorCode code_of(const std::string& json) {
  try {
    parse_hub_repo_listing(json);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Success;
}
}  // namespace

TEST_CASE("hub model answer: files, sizes and hashes", "[hub]") {
  const HubRepoListing l = parse_hub_repo_listing(listing(
      R"({"rfilename": "config.json", "size": 12, "blobId": "0123456789abcdef0123456789abcdef01234567"},
         {"rfilename": "sub/model.safetensors", "size": 99, "blobId": "1111111111111111111111111111111111111111",
          "lfs": {"sha256": ")" +
      kSha256 + R"(", "size": 4096, "pointerSize": 134}})"));
  CHECK(l.commit == kCommit);
  REQUIRE(l.files.size() == 2);
  CHECK(l.files[0].etag() == "0123456789abcdef0123456789abcdef01234567");
  CHECK(l.files[0].size == 12);
  CHECK(l.files[1].path == "sub/model.safetensors");
  CHECK(l.files[1].size == 4096);  // the LFS size, not the pointer's
  CHECK(l.files[1].etag() == kSha256);
}

TEST_CASE("hub model answer: hostile names and hashes are refused", "[hub]") {
  CHECK(code_of("not json") == ErrorCode::ValidationFailed);
  CHECK(code_of(R"({"sha": "abc", "siblings": []})") == ErrorCode::ValidationFailed);
  CHECK(code_of(R"({"sha": ")" + kCommit + R"("})") == ErrorCode::ValidationFailed);
  for (const char* bad_name : {"../evil", "/etc/passwd", "a//b", "a/./b", "a\\\\b", "", "dir/..", "x\\u0001y"})
    CHECK(code_of(listing(std::string(R"({"rfilename": ")") + bad_name + R"(", "size": 1})")) ==
          ErrorCode::ValidationFailed);
  CHECK(code_of(listing(R"({"rfilename": "m.safetensors", "lfs": {"size": 3}})")) == ErrorCode::ValidationFailed);
  CHECK(code_of(listing(R"({"rfilename": "m.safetensors", "lfs": {"sha256": "../../x", "size": 3}})")) ==
        ErrorCode::ValidationFailed);
  CHECK(code_of(listing(R"({"rfilename": "c.json", "blobId": "ABCDEF0123456789ABCDEF0123456789ABCDEF01"})")) ==
        ErrorCode::ValidationFailed);
  CHECK(code_of(listing(R"({"rfilename": "ok.json", "size": 1})")) == ErrorCode::Success);
}
