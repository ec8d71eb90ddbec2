#include "smoothquant_state.hpp"

#include <charconv>
#include <cstring>
#include <map>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/io/safetensors.hpp"

namespace libquant::jobs::smoothquant_state {
namespace fs = std::filesystem;

namespace {

// Shortest text that reads back as the same double.
std::string exact(double v) {
  char b[32];
  const auto r = std::to_chars(b, b + sizeof b, v);
  return {b, r.ptr};
}

[[noreturn]] void unusable(const fs::path& file, const std::string& what) {
  throw Error(ErrorCode::CheckpointError, "SmoothQuant checkpoint '" + file.string() + "' " + what,
              "Delete the checkpoint directory and start afresh");
}

class Reader {
 public:
  explicit Reader(const fs::path& file) : file_(file), st_(open(file)) {}

  const std::string& text(const std::string& key) const {
    auto it = st_.metadata().find(key);
    if (it == st_.metadata().end()) unusable(file_, "has no '" + key + "'");
    return it->second;
  }
  template <typename T>
  T number(const std::string& key) const {
    const std::string& s = text(key);
    T v{};
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) unusable(file_, "has a malformed '" + key + "'");
    return v;
  }
  // A float tensor's values; `rank` 1 or 2.
  std::vector<float> floats(const io::SafetensorsEntry& e, size_t rank) const {
    if (e.dtype != DType::F32 || e.shape.rank() != rank) unusable(file_, "has a malformed tensor '" + e.name + "'");
    std::vector<float> v(static_cast<size_t>(e.shape.numel()));
    st_.read(e, 0, std::as_writable_bytes(std::span(v)));
    return v;
  }
  const io::SafetensorsFile& file() const { return st_; }

 private:
  static io::SafetensorsFile open(const fs::path& file) {
    try {
      return io::SafetensorsFile(file);
    } catch (const Error& e) {
      unusable(file, std::string("is unreadable: ") + e.what());
    }
  }
  fs::path file_;
  io::SafetensorsFile st_;
};

const std::string kMax = "max:", kSamples = "samples:", kScales = "scales:", kRowsSeen = "rows_seen:";

}  // namespace

void save(const fs::path& file, uint64_t sequences, const calib::ChannelMaxCollector& stats,
          const std::vector<methods::GroupPlan>* plan, const std::vector<methods::AlphaCandidate>* candidates) {
  std::map<std::string, std::string> meta{{"sequences", std::to_string(sequences)},
                                          {"non_finite", stats.first_non_finite()}};
  std::map<std::string, std::span<const float>> data;
  std::vector<io::SafetensorsTensorSpec> specs;
  const auto add = [&](const std::string& name, const std::vector<float>& v, Shape shape) {
    specs.push_back({name, DType::F32, std::move(shape)});
    data[name] = v;
  };
  for (const auto& [name, mx] : stats.maxima()) {
    add(kMax + name, mx, Shape({static_cast<int64_t>(mx.size())}));
    const std::vector<float>* rows = stats.samples(name);
    if (rows && !rows->empty())
      add(kSamples + name, *rows,
          Shape({static_cast<int64_t>(rows->size() / mx.size()), static_cast<int64_t>(mx.size())}));
  }
  for (const auto& [name, seen] : stats.rows_seen()) meta[kRowsSeen + name] = std::to_string(seen);
  if (plan) {
    meta["plan.groups"] = std::to_string(plan->size());
    for (size_t i = 0; i < plan->size(); ++i) {
      const methods::GroupPlan& p = (*plan)[i];
      const std::string k = "plan." + std::to_string(i) + ".";
      meta[k + "norm"] = p.group.norm;
      meta[k + "alpha"] = p.alpha ? exact(*p.alpha) : "none";
      meta[k + "error"] = exact(p.error);
      meta[k + "error_unsmoothed"] = exact(p.error_unsmoothed);
      if (!p.scales.empty()) add(kScales + std::to_string(i), p.scales, Shape({static_cast<int64_t>(p.scales.size())}));
    }
    meta["plan.candidates"] = std::to_string(candidates ? candidates->size() : 0);
    for (size_t c = 0; candidates && c < candidates->size(); ++c) {
      meta["candidate." + std::to_string(c) + ".name"] = (*candidates)[c].name;
      meta["candidate." + std::to_string(c) + ".kl"] = exact((*candidates)[c].kl);
    }
  }
  io::SafetensorsWriter w(file.parent_path(), file.stem().string(), std::move(specs), meta);
  for (const std::string& name : w.write_order()) w.write(name, std::as_bytes(data.at(name)));
  w.finish();
}

Saved load(const fs::path& file, const std::vector<methods::GroupPlan>& groups) {
  const Reader r(file);
  Saved s;
  s.sequences = r.number<uint64_t>("sequences");
  s.stats.non_finite = r.text("non_finite");
  for (const auto& e : r.file().entries()) {
    if (e.name.starts_with(kMax)) s.stats.maxima[e.name.substr(kMax.size())] = r.floats(e, 1);
    if (e.name.starts_with(kSamples)) s.stats.samples[e.name.substr(kSamples.size())] = r.floats(e, 2);
  }
  for (const auto& [key, value] : r.file().metadata())
    if (key.starts_with(kRowsSeen)) s.stats.rows_seen[key.substr(kRowsSeen.size())] = r.number<int64_t>(key);
  if (!r.file().metadata().contains("plan.groups")) return s;

  if (r.number<uint64_t>("plan.groups") != groups.size()) unusable(file, "plans another number of groups");
  std::vector<methods::GroupPlan> plan = groups;
  for (size_t i = 0; i < plan.size(); ++i) {
    methods::GroupPlan& p = plan[i];
    const std::string k = "plan." + std::to_string(i) + ".";
    if (r.text(k + "norm") != p.group.norm) unusable(file, "plans group " + std::to_string(i) + " for another norm");
    if (r.text(k + "alpha") == "none")
      p.alpha.reset();
    else
      p.alpha = r.number<double>(k + "alpha");
    p.error = r.number<double>(k + "error");
    p.error_unsmoothed = r.number<double>(k + "error_unsmoothed");
    const io::SafetensorsEntry* e = r.file().find(kScales + std::to_string(i));
    p.scales = e ? r.floats(*e, 1) : std::vector<float>{};
  }
  const auto n = r.number<uint64_t>("plan.candidates");
  if (n > 1024) unusable(file, "lists too many alpha candidates");
  for (uint64_t c = 0; c < n; ++c) {
    const std::string k = "candidate." + std::to_string(c) + ".";
    s.candidates.push_back({r.text(k + "name"), r.number<double>(k + "kl")});
  }
  s.plan = std::move(plan);
  return s;
}

}  // namespace libquant::jobs::smoothquant_state
