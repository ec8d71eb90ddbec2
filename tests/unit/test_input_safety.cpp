// The library's defences against hostile input, unit by unit: model
// validation against the real checkpoint's shapes, finite-value checks,
// linear-time patterns, compact GGUF arrays, output/input separation,
// checkpoint locks and checksums.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/checkpoint.hpp"
#include "libquant/core/crc32.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/mapped_file.hpp"
#include "libquant/core/output_guard.hpp"
#include "libquant/core/pattern.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/model_validation.hpp"
#include "libquant/model/tensor_source.hpp"
#include "test_helpers.hpp"

using namespace libquant;
namespace fs = std::filesystem;

namespace {
ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Success;
}
}  // namespace

TEST_CASE("expected shapes are the real checkpoint's, for HF and GGUF sources alike", "[validation]") {
  for (const char* m : {"models/stories260K", "models/stories260K.gguf"}) {
    INFO(m);
    const auto src = model::open_tensor_source(test::shared_dir() / m);
    const model::ModelConfig cfg = model::validated_config(*src);
    CHECK(cfg.hidden_size == 64);
    CHECK(cfg.head_dim == 8);
    size_t required = 0;
    for (const auto& e : model::expected_tensors(cfg)) {
      const model::SourceTensor* t = src->find(e.name);
      if (e.required) {
        ++required;
        REQUIRE(t != nullptr);
      }
      if (t) CHECK(t->shape == e.shape);
    }
    CHECK(required == 3 + 9 * 5 - (cfg.tie_word_embeddings ? 1 : 0));
  }
}

TEST_CASE("hyper-parameters out of range are refused, naming the value", "[validation]") {
  const auto src = model::open_tensor_source(test::shared_dir() / "models/stories260K");
  const model::ModelConfig good = model::validated_config(*src);
  auto bad = [&](auto change) {
    model::ModelConfig c = good;
    change(c);
    return code_of([&] { model::validate_hyperparameters(c); });
  };
  CHECK(bad([](auto&) {}) == ErrorCode::Success);
  CHECK(bad([](auto& c) { c.num_kv_heads = 3; }) == ErrorCode::ValidationFailed);  // 8 % 3
  CHECK(bad([](auto& c) { c.head_dim = 7; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.intermediate_size = 0; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.hidden_size = int64_t{1} << 40; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.num_layers = int64_t{1} << 40; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.rms_norm_eps = std::nan(""); }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.rope_theta = -1; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.sliding_window = -4; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.sliding_window = 8, c.rope_theta_local = std::nan(""); }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.final_logit_softcap = std::nan(""); }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.attn_logit_softcap = -50; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.attention_scale = INFINITY; }) == ErrorCode::ValidationFailed);
  CHECK(bad([](auto& c) { c.architecture = "GPT2LMHeadModel"; }) == ErrorCode::UnsupportedConversion);
}

TEST_CASE("the first non-finite value is found wherever it is", "[finite]") {
  std::vector<float> x(1000, 1.0f);
  CHECK(first_non_finite(x.data(), x.size()) == x.size());
  for (size_t at : {size_t{0}, size_t{255}, size_t{256}, size_t{999}})
    for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
      auto y = x;
      y[at] = bad;
      CHECK(first_non_finite(y.data(), y.size()) == at);
    }
  x[300] = INFINITY;
  try {
    require_finite("tensor 't'", x.data() + 256, 100, 256);
    FAIL("accepted +Inf");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::ValidationFailed);
    CHECK(std::string(e.what()).find("+Inf at index 300") != std::string::npos);
  }
  CHECK(first_non_finite(x.data(), 0) == 0);
  const float big = std::numeric_limits<float>::max(), tiny = std::numeric_limits<float>::denorm_min();
  const float edge[] = {big, -big, tiny, -0.0f};
  CHECK(first_non_finite(edge, 4) == 4);
}

TEST_CASE("patterns match like std::regex and backtracking ones stay fast", "[pattern]") {
  CHECK(Pattern("attn_v").search("blk.0.attn_v.weight"));
  CHECK_FALSE(Pattern("^attn_v").search("blk.0.attn_v.weight"));
  CHECK(Pattern(R"(blk\.\d+\.ffn_(up|gate))").search("blk.12.ffn_gate.weight"));
  CHECK(Pattern(".*down_proj").full_match("model.layers.3.mlp.down_proj"));
  CHECK_FALSE(Pattern("down_proj").full_match("model.layers.3.mlp.down_proj"));
  CHECK(code_of([] { Pattern("(unclosed"); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([] { Pattern("(a)\\1", ErrorCode::ProfileInvalid); }) == ErrorCode::ProfileInvalid);  // no backrefs
  const Pattern evil("^(((((.*)*)*)*)*)*[$]$");
  const std::string long_name(20000, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(evil.search(long_name));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}

TEST_CASE("GGUF arrays are stored packed and typed access refuses the wrong type", "[gguf]") {
  const auto dir = test::scratch_dir("arrays");
  const auto p = dir / "a.gguf";
  {
    io::GgufWriter w(
        p,
        {{"ints", io::GgufValue::i32_array({1, -2, 3})},
         {"strs", io::GgufValue::string_array({"a", "", "ccc"})},
         {"big", io::GgufValue::array(io::GgufType::UInt8, std::vector<io::GgufScalar>(4096, uint8_t{7}))}},
        {});
    w.finish();
  }
  const io::GgufFile f(p);
  const io::GgufArray& ints = f.header().find("ints")->array();
  CHECK(ints.size() == 3);
  CHECK(ints.integer_at(1) == -2);
  CHECK(ints.number_at(2) == 3.0);
  CHECK(code_of([&] { (void)ints.string_at(0); }) == ErrorCode::ValidationFailed);
  CHECK(code_of([&] { (void)ints.integer_at(3); }) == ErrorCode::ValidationFailed);
  const io::GgufArray& strs = f.header().find("strs")->array();
  CHECK(strs.string_at(0) == "a");
  CHECK(strs.string_at(1).empty());
  CHECK(strs.string_at(2) == "ccc");
  CHECK(code_of([&] { (void)strs.integer_at(0); }) == ErrorCode::ValidationFailed);
  const io::GgufArray& big = f.header().find("big")->array();
  CHECK(big.size() == 4096);
  CHECK(big.packed_bytes().size() == 4096);  // one byte per u8, not a variant each
  fs::remove_all(dir);
}

TEST_CASE("outputs that would destroy inputs are refused", "[output_guard]") {
  const auto dir = test::scratch_dir("guard");
  fs::create_directories(dir / "model");
  std::ofstream(dir / "model" / "config.json") << "{}";
  std::ofstream(dir / "in.gguf") << "x";
  fs::create_symlink(dir / "in.gguf", dir / "link.gguf");
  fs::create_hard_link(dir / "in.gguf", dir / "hard.gguf");
  auto code = [&](const fs::path& out, OutputKind k = OutputKind::File) {
    return code_of([&] { require_output_apart_from_inputs(out, {dir / "in.gguf", dir / "model"}, k); });
  };
  CHECK(code(dir / "in.gguf") == ErrorCode::InvalidArgument);
  CHECK(code(dir / "link.gguf") == ErrorCode::InvalidArgument);
  CHECK(code(dir / "hard.gguf") == ErrorCode::InvalidArgument);
  CHECK(code(dir / "model" / "config.json") == ErrorCode::InvalidArgument);
  CHECK(code(dir / "model" / "new.gguf") == ErrorCode::Success);  // a new file next to the inputs is fine
  CHECK(code(dir / "out.gguf") == ErrorCode::Success);
  CHECK(code(dir / "model", OutputKind::Directory) == ErrorCode::InvalidArgument);
  CHECK(code(dir / "model" / "w8a8", OutputKind::Directory) == ErrorCode::InvalidArgument);
  CHECK(code(dir, OutputKind::Directory) == ErrorCode::InvalidArgument);  // would replace the inputs' parent
  CHECK(code(dir / "w8a8", OutputKind::Directory) == ErrorCode::Success);
  fs::remove_all(dir);
}

TEST_CASE("non-regular files are refused without blocking", "[read_file]") {
  const auto dir = test::scratch_dir("fifo");
  REQUIRE(::mkfifo((dir / "f").c_str(), 0600) == 0);
  CHECK(code_of([&] { (void)read_whole_file(dir / "f", ErrorCode::CalibrationDataError, "text"); }) ==
        ErrorCode::CalibrationDataError);
  CHECK(code_of([&] { (void)read_whole_file(dir, ErrorCode::CalibrationDataError, "text"); }) ==
        ErrorCode::CalibrationDataError);
  CHECK(code_of([&] { MappedFile m(dir / "f"); }) == ErrorCode::ValidationFailed);
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint is held by one job at a time", "[checkpoint]") {
  const auto dir = test::scratch_dir("lock");
  {
    Checkpoint a(dir, "job", "config");
    CHECK(code_of([&] { Checkpoint b(dir, "job", "config"); }) == ErrorCode::CheckpointError);
    Checkpoint other(dir, "job", "another config");  // a different job may share the directory
    a.save(CheckpointRecord{3, 0xdeadbeefu, 100});
    const auto r = a.load_record();
    REQUIRE(r);
    CHECK(r->done == 3);
    CHECK(r->crc32 == 0xdeadbeefu);
    CHECK(r->bytes == 100);
    a.clear();
  }
  Checkpoint again(dir, "job", "config");  // released with the object
  CHECK_FALSE(again.load_record());
  fs::remove_all(dir);
}

TEST_CASE("a partial file whose bytes changed is not resumed", "[checkpoint][atomic]") {
  const auto dir = test::scratch_dir("crc");
  const auto part = dir / "out.part";
  uint32_t crc = 0;
  {
    AtomicFile f(dir / "out", part, 0);
    const std::string data(5000, 'q');
    f.write(data.data(), data.size());
    f.sync();
    crc = f.crc32();
    CHECK(crc == crc32_of_file_prefix(part, 5000));
  }                                                            // not committed: the partial stays
  const uint32_t recorded = crc32_of_file_prefix(part, 4096);  // what a checkpoint at 4096 bytes records
  { AtomicFile ok(dir / "out", part, 4096, recorded); }
  {
    std::fstream f(part, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('X');  // a bit flip inside data the record calls finished
  }
  CHECK(code_of([&] { AtomicFile bad(dir / "out", part, 4096, recorded); }) == ErrorCode::CheckpointError);
  fs::remove_all(dir);
}
