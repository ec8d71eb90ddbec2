// The SmoothQuant job's checkpoint file: a collector restored from it and fed
// the rest of the inputs ends where an uninterrupted one does; the plan's
// doubles and floats come back bit-exact; a tampered file is a CheckpointError.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <random>

#include "jobs/smoothquant_state.hpp"
#include "libquant/core/error.hpp"
#include "libquant/io/safetensors.hpp"
#include "test_helpers.hpp"

using namespace libquant;
namespace state = libquant::jobs::smoothquant_state;

namespace {

std::vector<float> random_rows(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 3.0f);
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (auto& x : v) x = d(rng);
  return v;
}

void feed(calib::ChannelMaxCollector& c, const std::string& weight, const std::vector<float>& x, int64_t cols) {
  c.on_input({0, weight, x.data(), static_cast<int64_t>(x.size()) / cols, cols});
}

std::vector<methods::GroupPlan> two_groups() {
  methods::GroupPlan a{{0, "blk.0.attn_norm.weight", {"blk.0.attn_q.weight", "blk.0.attn_k.weight"}}, {}, {}, -1, -1};
  methods::GroupPlan b{{0, "blk.0.ffn_norm.weight", {"blk.0.ffn_gate.weight"}}, {}, {}, -1, -1};
  return {a, b};
}

// The code of the Error that loading throws (Success when it loads).
ErrorCode load_error(const std::filesystem::path& file, const std::vector<methods::GroupPlan>& groups) {
  try {
    (void)state::load(file, groups);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Success;
}

// Rewrites `file` with one metadata value replaced (tensors kept).
void tamper(const std::filesystem::path& file, const std::string& key, const std::string& value) {
  std::map<std::string, std::string> meta;
  std::vector<io::SafetensorsTensorSpec> specs;
  std::map<std::string, std::vector<std::byte>> data;
  {
    const io::SafetensorsFile f(file);
    meta = f.metadata();
    for (const auto& e : f.entries()) {
      specs.push_back({e.name, e.dtype, e.shape});
      auto& d = data[e.name];
      d.resize(e.end - e.begin);
      f.read(e, 0, d);
    }
  }
  meta[key] = value;
  io::SafetensorsWriter w(file.parent_path(), file.stem().string(), specs, meta);
  for (const auto& n : w.write_order()) w.write(n, data.at(n));
  w.finish();
}

}  // namespace

TEST_CASE("a restored collector continues where the interrupted one stopped", "[smoothquant][checkpoint]") {
  const auto dir = test::scratch_dir("sq-state");
  const auto file = dir / "state.safetensors";
  const std::vector<std::string> sampled = {"blk.0.attn_q.weight"};
  const int64_t cols = 24;
  const std::vector<std::vector<float>> batches = {random_rows(7, cols, 1), random_rows(5, cols, 2),
                                                   random_rows(9, cols, 3)};
  calib::ChannelMaxCollector whole(sampled, 3), first(sampled, 3);
  for (size_t b = 0; b < batches.size(); ++b) {
    feed(whole, "blk.0.attn_q.weight", batches[b], cols);
    feed(whole, "blk.0.ffn_gate.weight", batches[b], cols);
    if (b == 2) continue;
    feed(first, "blk.0.attn_q.weight", batches[b], cols);
    feed(first, "blk.0.ffn_gate.weight", batches[b], cols);
  }
  state::save(file, 12, first, nullptr, nullptr);
  state::Saved s = state::load(file, two_groups());
  CHECK(s.sequences == 12);
  CHECK_FALSE(s.plan);
  calib::ChannelMaxCollector resumed(sampled, 3);
  resumed.restore(std::move(s.stats));
  feed(resumed, "blk.0.attn_q.weight", batches[2], cols);
  feed(resumed, "blk.0.ffn_gate.weight", batches[2], cols);
  CHECK(resumed.maxima() == whole.maxima());
  CHECK(resumed.all_samples() == whole.all_samples());
  CHECK(resumed.rows_seen() == whole.rows_seen());
  // Every 3rd of 21 rows: 7 rows of 24.
  CHECK(resumed.samples("blk.0.attn_q.weight")->size() == 7 * cols);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the smoothing plan comes back bit-exact", "[smoothquant][checkpoint]") {
  const auto dir = test::scratch_dir("sq-plan");
  const auto file = dir / "state.safetensors";
  calib::ChannelMaxCollector stats;
  const auto x = random_rows(4, 8, 5);
  feed(stats, "blk.0.attn_q.weight", x, 8);
  auto plan = two_groups();
  plan[0].alpha = 0.1 + 0.2;  // not a short decimal
  plan[0].scales = {1.0f, std::nextafter(1.0f, 2.0f), 3e-38f, 7.5f, 0.125f, 1e30f, 2.0f, 0.3f};
  plan[0].error = 1e-300;
  plan[0].error_unsmoothed = 2.0 / 3.0;
  const std::vector<methods::AlphaCandidate> cands = {{"per-group search", 0.0123456789012345},
                                                      {"alpha 0.50 everywhere", 1.0 / 7.0}};
  state::save(file, 16, stats, &plan, &cands);
  const state::Saved s = state::load(file, two_groups());
  REQUIRE(s.plan);
  REQUIRE(s.plan->size() == 2);
  CHECK((*s.plan)[0].alpha == plan[0].alpha);
  CHECK((*s.plan)[0].scales == plan[0].scales);
  CHECK((*s.plan)[0].error == plan[0].error);
  CHECK((*s.plan)[0].error_unsmoothed == plan[0].error_unsmoothed);
  CHECK((*s.plan)[0].group.linears == plan[0].group.linears);
  CHECK_FALSE((*s.plan)[1].alpha);
  CHECK((*s.plan)[1].scales.empty());
  REQUIRE(s.candidates.size() == 2);
  CHECK(s.candidates[1].name == "alpha 0.50 everywhere");
  CHECK(s.candidates[1].kl == 1.0 / 7.0);

  // Another model's groups, or damaged values: CheckpointError, nothing trusted.
  auto other = two_groups();
  other[1].group.norm = "blk.0.post_attention_norm.weight";
  CHECK(load_error(file, other) == ErrorCode::CheckpointError);
  CHECK(load_error(file, {other[0]}) == ErrorCode::CheckpointError);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"sequences", "-3"},
                                                        {"sequences", "12x"},
                                                        {"plan.0.alpha", "half"},
                                                        {"plan.groups", "1"},
                                                        {"plan.candidates", "99999"},
                                                        {"rows_seen:blk.0.attn_q.weight", ""}}) {
    state::save(file, 16, stats, &plan, &cands);
    tamper(file, key, value);
    INFO(key << " = '" << value << "'");
    CHECK(load_error(file, two_groups()) == ErrorCode::CheckpointError);
  }
  std::filesystem::remove_all(dir);
}
