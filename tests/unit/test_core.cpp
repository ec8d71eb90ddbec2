#include <atomic>
#include <filesystem>

#include <catch2/catch.hpp>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/dtype.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/core/thread_pool.hpp"
#include "test_helpers.hpp"

using namespace libquant;

TEST_CASE("dtype traits give llama.cpp's block sizes", "[dtype]") {
  // (type, elements per block, bytes per block) from ggml-common.h
  const std::tuple<DType, uint32_t, uint64_t> expect[] = {
      {DType::Q4_0, 32, 18},    {DType::Q4_1, 32, 20},     {DType::Q5_0, 32, 22},     {DType::Q5_1, 32, 24},
      {DType::Q8_0, 32, 34},    {DType::Q2_K, 256, 84},    {DType::Q3_K, 256, 110},   {DType::Q4_K, 256, 144},
      {DType::Q5_K, 256, 176},  {DType::Q6_K, 256, 210},   {DType::Q8_K, 256, 292},   {DType::IQ2_XXS, 256, 66},
      {DType::IQ2_XS, 256, 74}, {DType::IQ3_XXS, 256, 98}, {DType::IQ1_S, 256, 50},   {DType::IQ4_NL, 32, 18},
      {DType::IQ3_S, 256, 110}, {DType::IQ2_S, 256, 82},   {DType::IQ4_XS, 256, 136}, {DType::IQ1_M, 256, 56},
      {DType::TQ1_0, 256, 54},  {DType::TQ2_0, 256, 66},   {DType::F16, 1, 2},        {DType::BF16, 1, 2},
      {DType::F64, 1, 8}};
  for (const auto& [t, blk, bytes] : expect) {
    INFO(traits(t).name);
    REQUIRE(traits(t).block_size == blk);
    REQUIRE(row_bytes(t, blk * 4) == bytes * 4);
  }
  REQUIRE_THROWS_AS(row_bytes(DType::Q4_K, 64), Error);
  REQUIRE_FALSE(is_valid_ggml_type_id(4));
  REQUIRE_FALSE(is_valid_ggml_type_id(31));
  REQUIRE(is_valid_ggml_type_id(29));
  REQUIRE_FALSE(is_valid_ggml_type_id(static_cast<uint32_t>(DType::U16)));
  REQUIRE(ggml_type_from_name("q4_k") == DType::Q4_K);
  REQUIRE(ggml_type_from_name("bf16") == DType::BF16);
  REQUIRE_FALSE(ggml_type_from_name("Q4_K_M"));
  REQUIRE(safetensors_dtype_from_name("F8_E4M3") == DType::F8_E4M3);
  REQUIRE(storage_bytes(DType::F4, 6) == 3);
}

TEST_CASE("thread pool covers every index exactly once and rethrows", "[threads]") {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(10007);
  pool.parallel_for(hits.size(), 3, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) REQUIRE(h == 1);
  REQUIRE_THROWS_AS(pool.parallel_for(100, 1,
                                      [](size_t b, size_t) {
                                        if (b > 50) throw Error(ErrorCode::General, "boom");
                                      }),
                    Error);
  // The pool is still usable after an exception.
  std::atomic<size_t> sum{0};
  pool.parallel_for(1000, 10, [&](size_t b, size_t e) { sum += e - b; });
  REQUIRE(sum == 1000);
}

TEST_CASE("atomic file appears only on commit", "[atomic]") {
  const auto dir = test::scratch_dir("atomic");
  const auto target = dir / "out.bin";
  {
    AtomicFile f(target);
    f.write("abc", 3);
    REQUIRE_FALSE(std::filesystem::exists(target));
  }  // destroyed without commit
  REQUIRE_FALSE(std::filesystem::exists(target));
  REQUIRE(std::distance(std::filesystem::directory_iterator(dir), {}) == 0);
  {
    AtomicFile f(target);
    f.write("abcdef", 6);
    const char x = 'X';
    f.pwrite(&x, 1, 0);
    f.commit();
  }
  REQUIRE(std::filesystem::file_size(target) == 6);
  REQUIRE(test::read_file(target)[0] == std::byte{'X'});
  REQUIRE_THROWS_AS(AtomicFile(dir / "missing" / "x"), Error);
}

TEST_CASE("JSON writer escapes and nests", "[json]") {
  JsonWriter j;
  j.begin_object().field("a", "q\"\n\x01").key("b").begin_array().value(1).value(2.5).value(true).null().end_array();
  j.key("c").begin_object().end_object().field("n", uint64_t{18446744073709551615ull}).end_object();
  REQUIRE(j.str() == R"({"a":"q\"\n\u0001","b":[1,2.5,true,null],"c":{},"n":18446744073709551615})");
}

TEST_CASE("durations format as clock time", "[progress]") {
  REQUIRE(format_duration(5) == "0:05");
  REQUIRE(format_duration(3725) == "1:02:05");
  REQUIRE(format_duration(-1) == "--:--");
}

TEST_CASE("errors carry exit codes and JSON type names", "[error]") {
  const Error e(ErrorCode::ModelNotFound, "missing", "check the path");
  REQUIRE(e.exit_code() == 3);
  REQUIRE(e.suggestion() == "check the path");
  REQUIRE(error_type_name(ErrorCode::ModelNotFound) == "ModelNotFoundError");
  REQUIRE(static_cast<int>(ErrorCode::ReconstructionFailed) == 24);
}
