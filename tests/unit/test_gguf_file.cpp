#include <cstring>

#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"
#include "test_helpers.hpp"

using namespace libquant;
using namespace libquant::io;

namespace {

void expect_invalid(const std::vector<std::byte>& file, const std::string& needle) {
  try {
    parse_gguf(file);
    FAIL("accepted a bad file; expected: " << needle);
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::ValidationFailed);
    INFO(e.what());
    REQUIRE(std::string(e.what()).find(needle) != std::string::npos);
  }
}

// A small valid image built by our writer: one KV and one F32 tensor [2, 32].
std::vector<std::byte> small_gguf() {
  const auto dir = test::scratch_dir("gguf-small");
  {
    GgufWriter w(dir / "a.gguf", {{"general.architecture", GgufValue::str("llama")}},
                 {{"t", {DType::F32, Shape({2, 32})}}});
    std::vector<float> v(64, 1.5f);
    w.write_tensor({reinterpret_cast<const std::byte*>(v.data()), 256});
    w.finish();
  }
  return test::read_file(dir / "a.gguf");
}

template <typename T>
void put(std::vector<std::byte>& f, size_t at, T v) {
  std::memcpy(f.data() + at, &v, sizeof v);
}

}  // namespace

TEST_CASE("reads llama.cpp's stories260K.gguf", "[gguf]") {
  GgufFile f(test::shared_dir() / "models/stories260K.gguf");
  const auto& h = f.header();
  REQUIRE(h.version == 3);
  REQUIRE(h.find("general.architecture")->as_string() == "llama");
  REQUIRE(h.find("llama.block_count")->as_uint() == 5);
  REQUIRE(h.find("tokenizer.ggml.tokens")->array().size() == 512);
  const auto* t = h.find_tensor("blk.0.ffn_down.weight");
  REQUIRE(t);
  REQUIRE(t->shape == Shape({64, 172}));
  REQUIRE(t->type == DType::F32);
}

TEST_CASE("GGUF write -> read -> same bytes, for llama.cpp files of several types", "[gguf]") {
  for (const char* rel : {"models/stories260K.gguf", "golden/stories260K/quantized/stories260K-Q8_0.gguf",
                          "golden/stories260K/quantized/stories260K-Q4_K_M.gguf"}) {
    INFO(rel);
    const auto path = test::shared_dir() / rel;
    GgufFile in(path);
    std::vector<std::pair<std::string, std::pair<DType, Shape>>> specs;
    for (const auto& t : in.header().tensors) specs.push_back({t.name, {t.type, t.shape}});
    const auto out = test::scratch_dir("gguf-rt") / "out.gguf";
    GgufWriter w(out, in.header().kvs, specs, in.header().alignment);
    for (const auto& t : in.header().tensors) w.write_tensor(in.view(t).bytes);
    w.finish();
    REQUIRE(test::read_file(out) == test::read_file(path));
  }
}

TEST_CASE("every metadata value type survives a round trip", "[gguf]") {
  std::vector<GgufKv> kvs = {{"u8", GgufValue::u8(200)},
                             {"i8", GgufValue::i8(-5)},
                             {"u16", GgufValue::u16(60000)},
                             {"i16", GgufValue::i16(-30000)},
                             {"u32", GgufValue::u32(4000000000u)},
                             {"i32", GgufValue::i32(-7)},
                             {"f32", GgufValue::f32(1.25f)},
                             {"bool", GgufValue::boolean(true)},
                             {"str", GgufValue::str("h\xC3\xA9llo")},
                             {"u64", GgufValue::u64(1ull << 60)},
                             {"i64", GgufValue::i64(-(1ll << 60))},
                             {"f64", GgufValue::f64(3.5)},
                             {"arr", GgufValue::string_array({"a", "", "ccc"})},
                             {"farr", GgufValue::f32_array({1, 2})},
                             {"empty", GgufValue::i32_array({})}};
  const auto out = test::scratch_dir("gguf-kv") / "kv.gguf";
  GgufWriter w(out, kvs, {});
  w.finish();
  GgufFile f(out);
  REQUIRE(f.header().kvs.size() == kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i) {
    REQUIRE(f.header().kvs[i].key == kvs[i].key);
    REQUIRE(f.header().kvs[i].value == kvs[i].value);
  }
}

TEST_CASE("crafted bad GGUF files are rejected with a reason", "[gguf]") {
  const auto good = small_gguf();
  REQUIRE_NOTHROW(parse_gguf(good));
  // Header layout of small_gguf: magic@0 version@4 n_tensors@8 n_kv@16, key len@24 "general.architecture"(20)@32,
  // type@52, str len@56 "llama"@64, tensor name len@69 "t"@77, n_dims@78, ne@82,90, type@98, offset@102.
  expect_invalid({good.begin(), good.begin() + 20}, "unexpected end");
  auto bad = good;
  put<uint32_t>(bad, 0, 0x12345678);
  expect_invalid(bad, "magic");
  bad = good;
  put<uint32_t>(bad, 4, 1);
  expect_invalid(bad, "version 1");
  bad = good;
  put<uint32_t>(bad, 4, 7);
  expect_invalid(bad, "unsupported GGUF version");
  bad = good;
  put<uint64_t>(bad, 8, 1ull << 50);
  expect_invalid(bad, "tensor count");
  bad = good;
  put<uint64_t>(bad, 16, 1ull << 50);
  expect_invalid(bad, "metadata count");
  bad = good;
  put<uint64_t>(bad, 24, 1ull << 50);
  expect_invalid(bad, "runs past the end");
  bad = good;
  put<int32_t>(bad, 52, 99);
  expect_invalid(bad, "unknown value type");
  bad = good;
  put<uint32_t>(bad, 78, 9);
  expect_invalid(bad, "dimensions");
  bad = good;
  put<int64_t>(bad, 82, -3);
  expect_invalid(bad, "negative dimension");
  bad = good;
  put<int32_t>(bad, 98, 4);
  expect_invalid(bad, "unknown type");  // removed Q4_2
  bad = good;
  put<int32_t>(bad, 98, 12);
  expect_invalid(bad, "block size");  // Q4_K needs 256-wide rows
  bad = good;
  put<uint64_t>(bad, 102, 64);
  expect_invalid(bad, "offset");
  bad = good;
  put<int64_t>(bad, 90, 1ll << 40);
  expect_invalid(bad, "larger than the file");
  bad = good;
  put<int64_t>(bad, 90, 3);
  expect_invalid(bad, "past the end");  // truncated data
}

TEST_CASE("writer refuses inconsistent input", "[gguf]") {
  const auto dir = test::scratch_dir("gguf-w");
  REQUIRE_THROWS_AS(GgufWriter(dir / "x.gguf", {}, {{"t", {DType::Q8_0, Shape({2, 33})}}}), Error);
  GgufWriter w(dir / "y.gguf", {}, {{"t", {DType::F32, Shape({4})}}});
  std::vector<std::byte> small(8);
  REQUIRE_THROWS_AS(w.write_tensor(small), Error);
  REQUIRE_THROWS_AS(w.finish(), Error);
}
