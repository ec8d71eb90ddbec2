#include <cstring>

#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/io/safetensors.hpp"
#include "test_helpers.hpp"

using namespace libquant;
using namespace libquant::io;

namespace {

std::vector<std::byte> make_file(const std::string& header, size_t data_bytes) {
  std::vector<std::byte> f(8 + header.size() + data_bytes);
  const uint64_t n = header.size();
  std::memcpy(f.data(), &n, 8);
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}

void expect_invalid(const std::vector<std::byte>& file, const std::string& needle) {
  try {
    SafetensorsFile::parse_header(file, nullptr);
    FAIL("accepted a bad file; expected: " << needle);
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::ValidationFailed);
    INFO(e.what());
    REQUIRE(std::string(e.what()).find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("reads the real test checkpoint", "[safetensors]") {
  SafetensorsFile f(test::shared_dir() / "models/stories260K/model.safetensors");
  REQUIRE(f.entries().size() == 47);  // embedding + 5 layers x 9 + final norm
  REQUIRE(f.metadata().at("format") == "pt");
  const auto* e = f.find("model.layers.0.mlp.down_proj.weight");
  REQUIRE(e);
  REQUIRE(e->dtype == DType::F32);
  REQUIRE(e->shape == Shape({64, 172}));
  REQUIRE(f.view(*e).bytes.size() == 64 * 172 * 4);
}

TEST_CASE("write -> read -> same bytes (round trip of the real checkpoint)", "[safetensors]") {
  const auto src_path = test::shared_dir() / "models/stories260K/model.safetensors";
  SafetensorsFile src(src_path);
  std::vector<SafetensorsTensorSpec> specs;
  for (const auto& e : src.entries()) specs.push_back({e.name, e.dtype, e.shape});
  const auto dir = test::scratch_dir("st-roundtrip");
  SafetensorsWriter w(dir, "model", specs, src.metadata());
  for (const auto& name : w.write_order()) w.write(name, src.view(*src.find(name)).bytes);
  const auto paths = w.finish();
  REQUIRE(paths.size() == 1);
  // The shared file was written with the reference layout rules, so ours must match byte for byte.
  REQUIRE(test::read_file(paths[0]) == test::read_file(src_path));
}

TEST_CASE("sharded writer produces an index the reader accepts", "[safetensors]") {
  SafetensorsFile src(test::shared_dir() / "models/stories260K/model.safetensors");
  std::vector<SafetensorsTensorSpec> specs;
  for (const auto& e : src.entries()) specs.push_back({e.name, e.dtype, e.shape});
  const auto dir = test::scratch_dir("st-shards");
  SafetensorsWriter w(dir, "model", specs, {{"format", "pt"}}, 300'000);
  for (const auto& name : w.write_order()) w.write(name, src.view(*src.find(name)).bytes);
  const auto paths = w.finish();
  REQUIRE(paths.size() == 5);  // 4 shards + index (1,044,992 bytes in <= 300 kB pieces)
  REQUIRE(paths.back().filename() == "model.safetensors.index.json");
  REQUIRE(paths[0].filename() == "model-00001-of-00004.safetensors");
  SafetensorsCheckpoint ck(dir);
  REQUIRE(ck.shard_count() == 4);
  REQUIRE(ck.tensors().size() == src.entries().size());
  for (const auto& e : src.entries()) {
    const auto* loc = ck.find(e.name);
    REQUIRE(loc);
    const auto a = loc->file->view(*loc->entry).bytes;
    const auto b = src.view(e).bytes;
    REQUIRE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
}

TEST_CASE("sharded checkpoint with a missing shard is rejected", "[safetensors]") {
  SafetensorsFile src(test::shared_dir() / "models/stories260K/model.safetensors");
  std::vector<SafetensorsTensorSpec> specs;
  for (const auto& e : src.entries()) specs.push_back({e.name, e.dtype, e.shape});
  const auto dir = test::scratch_dir("st-missing");
  SafetensorsWriter w(dir, "model", specs, {}, 300'000);
  for (const auto& name : w.write_order()) w.write(name, src.view(*src.find(name)).bytes);
  w.finish();
  std::filesystem::remove(dir / "model-00002-of-00004.safetensors");
  REQUIRE_THROWS_AS(SafetensorsCheckpoint(dir), Error);
}

TEST_CASE("crafted bad safetensors files are rejected with a reason", "[safetensors]") {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE_NOTHROW(SafetensorsFile::parse_header(make_file(ok, 8), nullptr));
  expect_invalid(std::vector<std::byte>(4), "shorter than");
  expect_invalid(make_file(ok, 4), "past the end");  // truncated data
  expect_invalid(make_file(ok, 12), "trailing bytes");
  auto huge = make_file(ok, 8);
  const uint64_t absurd = 1ull << 40;
  std::memcpy(huge.data(), &absurd, 8);
  expect_invalid(huge, "exceeds");
  expect_invalid(make_file(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype");
  expect_invalid(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12");
  expect_invalid(
      make_file(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
          12),
      "overlaps");
  expect_invalid(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "gap");
  expect_invalid(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "bad data_offsets");
  expect_invalid(make_file(R"([1,2])", 0), "start with");
  expect_invalid(make_file(R"({"a":{"dtype":"F32","shape":[2],)", 8), "not valid JSON");
  expect_invalid(
      make_file(R"({"a":{"dtype":"F32","shape":[281474976710657,281474976710657],"data_offsets":[0,8]}})", 8),
      "bad dimension");
  expect_invalid(
      make_file(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
          16),
      "duplicate");
  expect_invalid(make_file(R"({"__metadata__":{"x":1}})", 0), "__metadata__");
}
