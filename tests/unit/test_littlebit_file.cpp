// .littlebit files: stored sizes against the BPW formula, byte-exact round
// trips (write -> read -> write), and every single corrupted byte rejected.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <random>

#include "libquant/core/error.hpp"
#include "libquant/io/littlebit_file.hpp"
#include "libquant/methods/littlebit.hpp"
#include "test_helpers.hpp"

using namespace libquant;

namespace {
cpu::LittleBitFactors random_factors(int64_t out, int64_t in, int64_t rank, int paths, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<methods::LittleBitLatent> lat;
  for (int p = 0; p < paths; ++p) {
    methods::LittleBitLatent L{out, in, rank, {}, {}, {}, {}, {}};
    const auto fill = [&](std::vector<float>& v, int64_t n) {
      v.resize(static_cast<size_t>(n));
      for (auto& x : v) x = d(rng);
    };
    fill(L.u, out * rank);
    fill(L.v, rank * in);
    fill(L.h, out);
    fill(L.l, rank);
    fill(L.g, in);
    lat.push_back(std::move(L));
  }
  return methods::binarize(lat);
}

std::filesystem::path write_sample(const std::filesystem::path& dir, const std::string& name) {
  io::LittleBitFileInfo info;
  info.source_model = "test-model";
  info.architecture = "LlamaForCausalLM";
  info.target_bpw = 0.55;
  info.refinement = "none";
  info.original_size_bytes = 12345;
  const auto path = dir / name;
  io::LittleBitWriter w(path, info);
  w.write_metadata(
      {{"general.architecture", io::GgufValue::str("llama")}, {"llama.block_count", io::GgufValue::u32(1)}});
  w.write_factors("blk.0.attn_q.weight", random_factors(40, 70, 8, 2, 1), 0.5, 0.25, 16);
  w.write_factors("blk.0.ffn_down.weight", random_factors(70, 130, 16, 1, 2));
  Tensor norm(DType::F32, Shape({70}));
  for (int i = 0; i < 70; ++i) norm.data_as<float>()[i] = 1.0f + 0.01f * static_cast<float>(i);
  w.write_dense("blk.0.attn_norm.weight", norm);
  w.finish();
  return path;
}
}  // namespace

TEST_CASE("littlebit block sizes follow the BPW formula", "[littlebit][format]") {
  // With every dimension a multiple of 64 nothing is padded: the stored bits are exactly the
  // paper's P (r (m + n + 16) + 16 (m + n)) (r (m + n) sign bits, 16-bit h, l, g).
  for (const auto& [m, n, r, p] : std::vector<std::tuple<int64_t, int64_t, int64_t, int>>{
           {64, 64, 64, 1}, {128, 64, 64, 2}, {4096, 11008 / 64 * 64, 128, 2}, {576, 1536, 64, 2}}) {
    const auto lay = io::littlebit_block_layout(m, n, r, p);
    const double formula_bits = methods::littlebit_bpw(m, n, r, p) * static_cast<double>(m * n);
    CHECK(static_cast<double>(lay.size * 8) == Approx(formula_bits).epsilon(1e-12));
  }
  // Ragged shapes: only row padding to 64 bits and part alignment to 64 bytes on top.
  for (const auto& [m, n, r, p] : std::vector<std::tuple<int64_t, int64_t, int64_t, int>>{
           {70, 130, 8, 2}, {4096, 11008, 1472, 2}, {192, 576, 8, 2}, {1, 1, 1, 1}}) {
    const auto lay = io::littlebit_block_layout(m, n, r, p);
    const double formula_bits = methods::littlebit_bpw(m, n, r, p) * static_cast<double>(m * n);
    const double padding_bits = p * (64.0 * static_cast<double>(m + r) + 5 * 64 * 8);
    CHECK(static_cast<double>(lay.size * 8) >= formula_bits);
    CHECK(static_cast<double>(lay.size * 8) <= formula_bits + padding_bits);
  }
}

TEST_CASE("littlebit files round-trip byte for byte", "[littlebit][format]") {
  const auto dir = test::scratch_dir("littlebit-rt");
  const auto a = write_sample(dir, "a.littlebit");
  io::LittleBitFile f(a);
  CHECK(f.info().source_model == "test-model");
  CHECK(f.info().tensors.size() == 4);  // metadata + 3
  REQUIRE(f.info().find("blk.0.attn_q.weight"));
  CHECK(f.info().find("blk.0.attn_q.weight")->weight_error == 0.5);
  CHECK(f.factors(*f.info().find("blk.0.attn_q.weight")) == random_factors(40, 70, 8, 2, 1));
  CHECK(f.metadata_header().find("llama.block_count")->as_uint() == 1);
  for (const auto& t : f.info().tensors) CHECK(t.offset % 64 == 0);
  // Write everything read back into a second file: identical bytes.
  {
    io::LittleBitWriter w(dir / "b.littlebit", f.info());
    w.write_metadata(f.metadata());
    for (const auto& t : f.info().tensors) {
      if (t.kind == io::LittleBitTensorKind::Factors)
        w.write_factors(t.name, f.factors(t), t.weight_error, t.output_error, t.original_bits);
      if (t.kind == io::LittleBitTensorKind::Dense) {
        Tensor x(t.dtype, t.shape);
        std::memcpy(x.data(), f.block(t).data(), t.size);
        w.write_dense(t.name, x, t.original_bits);
      }
    }
    w.finish();
  }
  CHECK(test::read_file(a) == test::read_file(dir / "b.littlebit"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("every corrupted byte of a littlebit file is caught (exit 6)", "[littlebit][format]") {
  const auto dir = test::scratch_dir("littlebit-corrupt");
  const auto good = test::read_file(write_sample(dir, "good.littlebit"));
  REQUIRE_NOTHROW(io::parse_littlebit(good));
  size_t caught = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= std::byte{0x5a};
    try {
      io::parse_littlebit(bad);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::ValidationFailed) ++caught;
    }
  }
  CHECK(caught == good.size());
  // Truncation anywhere is caught too.
  for (size_t n : {size_t{0}, size_t{10}, good.size() / 2, good.size() - 1}) {
    std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK_THROWS_AS(io::parse_littlebit(cut), Error);
  }
  std::filesystem::remove_all(dir);
}
