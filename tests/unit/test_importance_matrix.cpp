// Importance matrices: llama.cpp's legacy files round-trip byte for byte, the
// GGUF layout round-trips the statistics, bad files are rejected with
// ImatrixInvalid, and accumulation follows llama-imatrix's arithmetic.
#include <cmath>
#include <cstring>

#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/methods/activation_statistics.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "test_helpers.hpp"

using namespace libquant;
using libquant::methods::ImportanceMatrix;

TEST_CASE("golden llama.cpp imatrix files load and re-save byte for byte", "[imatrix]") {
  for (const char* rel : {"golden/stories260K/imatrix-calib.dat", "golden/synthetic-a/imatrix.dat"}) {
    INFO(rel);
    const auto path = test::shared_dir() / rel;
    const auto m = ImportanceMatrix::load(path);
    REQUIRE(m.entries().size() >= 14);
    const auto out = test::scratch_dir("imatrix-rt") / "out.dat";
    m.save_legacy(out);
    REQUIRE(test::read_file(out) == test::read_file(path));
  }
  const auto m = ImportanceMatrix::load(test::shared_dir() / "golden/stories260K/imatrix-calib.dat");
  REQUIRE(m.chunks == 296);
  REQUIRE(m.datasets == std::vector<std::string>{"calib.txt"});
  REQUIRE(m.find("blk.0.ffn_down.weight")->sums.size() == 172);
  REQUIRE(m.find("blk.0.ffn_down.weight")->ncall == 296);
}

TEST_CASE("legacy -> GGUF imatrix -> legacy keeps the per-column means", "[imatrix]") {
  auto m = ImportanceMatrix::load(test::shared_dir() / "golden/stories260K/imatrix-calib.dat");
  m.chunk_size = 256;
  const auto dir = test::scratch_dir("imatrix-gguf");
  m.save_gguf(dir / "m.gguf");
  const auto g = ImportanceMatrix::load(dir / "m.gguf");
  REQUIRE(g.chunks == 296);
  REQUIRE(g.chunk_size == 256);
  REQUIRE(g.entries().size() == m.entries().size());
  for (const auto& e : m.entries()) {
    const auto* ge = g.find(e.name);
    REQUIRE(ge);
    REQUIRE(ge->ncall == e.ncall);
    const auto a = e.mean(), b = ge->mean();
    for (size_t j = 0; j < a.size(); ++j) REQUIRE(b[j] == Approx(a[j]).epsilon(1e-6));
  }
}

TEST_CASE("accumulation: f32 sums of squares, counts per row, calls per forward", "[imatrix]") {
  ImportanceMatrix m;
  const float x[2 * 3] = {1, 2, 3, -1, 0, 0.5f};
  m.accumulate("blk.0.attn_q.weight", x, 2, 3);
  m.accumulate("blk.0.attn_q.weight", x, 2, 3, 4);
  const auto* e = m.find("blk.0.attn_q.weight");
  REQUIRE(e->sums == std::vector<float>{4, 8, 18.5f});
  REQUIRE(e->count == 4);
  REQUIRE(e->ncall == 5);
  REQUIRE(e->mean() == std::vector<float>{1, 2, 18.5f / 4});
  const float bad[3] = {1, NAN, 0};
  try {
    m.accumulate("blk.0.attn_q.weight", bad, 1, 3);
    FAIL("accepted NaN");
  } catch (const Error& err) {
    REQUIRE(err.code() == ErrorCode::ImportanceFailed);
  }
  ImportanceMatrix other;
  other.accumulate("blk.0.attn_q.weight", x, 2, 3);
  other.accumulate("blk.1.ffn_down.weight", x, 1, 3);
  m.merge(other);
  REQUIRE(m.find("blk.0.attn_q.weight")->count == 6);
  REQUIRE(m.find("blk.1.ffn_down.weight")->sums == std::vector<float>{1, 4, 9});
}

TEST_CASE("bad imatrix files are rejected with exit 10", "[imatrix]") {
  auto code = [](std::vector<std::byte> bytes) {
    try {
      ImportanceMatrix::parse_legacy(bytes);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Success;
  };
  auto good = test::read_file(test::shared_dir() / "golden/stories260K/imatrix-calib.dat");
  REQUIRE(code(good) == ErrorCode::Success);
  REQUIRE(code({good.begin(), good.begin() + 100}) == ErrorCode::ImatrixInvalid);  // truncated
  auto absurd = good;
  const int32_t n = 1 << 30;
  std::memcpy(absurd.data(), &n, 4);
  REQUIRE(code(absurd) == ErrorCode::ImatrixInvalid);
  auto trailing = good;
  trailing.push_back(std::byte{1});
  REQUIRE(code(trailing) == ErrorCode::ImatrixInvalid);
  try {
    ImportanceMatrix::load(test::shared_dir() / "missing.dat");
    FAIL("loaded a missing file");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::ImatrixInvalid);
  }
  // A GGUF that is not an imatrix
  try {
    ImportanceMatrix::load(test::shared_dir() / "models/stories260K.gguf");
    FAIL("loaded a model as imatrix");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::ImatrixInvalid);
  }
}

TEST_CASE("activation statistics of known matrices", "[imatrix-stats]") {
  // blk.0: one row of x = (1, 1, 1, 1): means all 1 -> uniform: entropy 2 bits (100% of log2 4), no spread.
  // blk.1: one row of x = (2, 0, 0, 0): means (4, 0, 0, 0) -> entropy 0, 75% inactive, one column 1.73 sigma up.
  ImportanceMatrix m;
  const float flat[4] = {1, 1, 1, 1}, spike[4] = {2, 0, 0, 0};
  m.accumulate("blk.0.ffn_up.weight", flat, 1, 4);
  m.accumulate("blk.1.ffn_up.weight", spike, 1, 4);
  m.accumulate("output.weight", flat, 1, 4);
  const auto s = methods::activation_statistics(m);
  REQUIRE(s.tensors.size() == 3);
  // Sorted by tensor kind, then by sum, largest first.
  CHECK(s.tensors[0].tensor == "ffn_up");
  CHECK(s.tensors[0].layer == "0");  // sum 4 == sum 4: the stable order keeps blk.0 first
  CHECK(s.tensors[1].layer == "1");
  CHECK(s.tensors[2].tensor == "output");
  CHECK(s.tensors[2].layer == "-");
  const auto& flat_stats = s.tensors[0];
  CHECK(flat_stats.sum == 4.0f);
  CHECK(flat_stats.mean == 1.0f);
  CHECK(flat_stats.stddev == 0.0f);
  CHECK(flat_stats.entropy == 2.0f);
  CHECK(flat_stats.entropy_norm == 100.0f);
  CHECK(flat_stats.zd == 0.0f);
  CHECK(flat_stats.active == 1.0f);
  CHECK(flat_stats.cossim == 0.0f);  // no block before 0
  const auto& spike_stats = s.tensors[1];
  CHECK(spike_stats.max == 4.0f);
  CHECK(spike_stats.min == 0.0f);
  CHECK(spike_stats.active == 0.25f);
  CHECK(spike_stats.entropy == 0.0f);
  CHECK(spike_stats.stddev == Approx(std::sqrt(3.0f)));  // sqrt(16/4 - 1)
  CHECK(spike_stats.zd == 0.25f);                        // (4 - 1) / sqrt(3) > 1 for the one spike
  CHECK(spike_stats.cossim == Approx(0.5f));             // (4,0,0,0).(1,1,1,1) / (4 * 2)
  REQUIRE(s.layers.size() == 2);                         // "-" is no layer
  CHECK(s.layers[1].layer == 1);
  CHECK(s.layers[1].mean_sum == 4.0f);
  CHECK(s.layers[1].cossim == Approx(0.5f));
}
