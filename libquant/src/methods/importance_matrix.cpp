#include "libquant/methods/importance_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "libquant/core/atomic_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/mapped_file.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::methods {
namespace fs = std::filesystem;

std::vector<float> ImatrixEntry::mean() const {
  std::vector<float> m(sums.size());
  if (!expert_counts.empty()) {
    const size_t cols = sums.size() / expert_counts.size();
    for (size_t i = 0; i < sums.size(); ++i) {
      const int64_t c = expert_counts[i / cols];
      m[i] = c ? sums[i] / static_cast<float>(c) : 1.0f;
    }
    return m;
  }
  for (size_t i = 0; i < sums.size(); ++i) m[i] = count ? sums[i] / static_cast<float>(count) : 0.0f;
  return m;
}

ImatrixEntry& ImportanceMatrix::entry(std::string_view weight, int64_t cols) {
  auto it = index_.find(weight);
  if (it == index_.end()) {
    index_.emplace(std::string(weight), entries_.size());
    entries_.push_back({std::string(weight), std::vector<float>(static_cast<size_t>(cols), 0.0f), 0, 0, {}});
    return entries_.back();
  }
  ImatrixEntry& e = entries_[it->second];
  check(static_cast<int64_t>(e.sums.size()) == cols, ErrorCode::ImportanceFailed,
        "activations of '" + std::string(weight) + "' changed width");
  return e;
}

namespace {
// acc[j] += x[r][j]^2 over the rows, in token order and f32: the same arithmetic as llama-imatrix.
void add_squares(float* acc, const float* x, int64_t rows, int64_t cols, std::string_view weight) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t j = 0; j < cols; ++j) {
      if (!std::isfinite(xr[j]))
        throw Error(ErrorCode::ImportanceFailed, "non-finite activation entering '" + std::string(weight) + "'",
                    "The model produces NaN/Inf on this text; check the weights");
      acc[j] += xr[j] * xr[j];
    }
  }
}
}  // namespace

void ImportanceMatrix::accumulate(std::string_view weight, const float* x, int64_t rows, int64_t cols, int64_t calls) {
  ImatrixEntry& e = entry(weight, cols);
  add_squares(e.sums.data(), x, rows, cols, weight);
  e.count += rows;
  e.ncall += calls;
}

void ImportanceMatrix::accumulate_expert(std::string_view weight, int expert, int n_experts, const float* x,
                                         int64_t rows, int64_t cols) {
  // (Messages built only on failure: this runs once per expert per forward.)
  if (n_experts <= 0 || expert < 0 || expert >= n_experts)
    throw Error(ErrorCode::ImportanceFailed, std::string("expert ")
                                                 .append(std::to_string(expert))
                                                 .append(" of '")
                                                 .append(weight)
                                                 .append("' is out of range"));
  ImatrixEntry& e = entry(weight, cols * n_experts);
  if (e.expert_counts.empty() && e.count == 0) e.expert_counts.assign(static_cast<size_t>(n_experts), 0);
  if (e.expert_counts.size() != static_cast<size_t>(n_experts))
    throw Error(ErrorCode::ImportanceFailed, std::string("'").append(weight).append("' changed its number of experts"));
  add_squares(e.sums.data() + static_cast<size_t>(expert) * static_cast<size_t>(cols), x, rows, cols, weight);
  e.expert_counts[static_cast<size_t>(expert)] += rows;
  e.count += rows;
}

namespace {
[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::ImatrixInvalid, "invalid importance matrix: " + what,
              "Re-create it with `analyze` or llama-imatrix");
}

// A legacy-loaded entry holds mean * ncall with count = ncall (no token count
// survives in that layout); computed and GGUF-loaded entries hold raw sums.
bool holds_legacy_values(const ImatrixEntry& e) { return e.expert_counts.empty() && e.count == e.ncall; }

// The call count llama-imatrix writes for an expert weight: its busiest
// expert's tokens in chunks, rounded up.
int64_t expert_ncall(const ImatrixEntry& e, int64_t chunk_size) {
  const int64_t most = *std::max_element(e.expert_counts.begin(), e.expert_counts.end());
  return chunk_size > 0 ? (most + chunk_size - 1) / chunk_size : std::max<int64_t>(1, most);
}

// Raw sums of a legacy entry, assuming `chunk_size` tokens per call (what
// llama.cpp assumes when it reads a legacy file into a GGUF-era collector).
ImatrixEntry as_raw(ImatrixEntry e, int64_t chunk_size) {
  const auto scale = static_cast<float>(std::max<int64_t>(1, chunk_size));
  for (auto& v : e.sums) v *= scale;
  e.count *= std::max<int64_t>(1, chunk_size);
  return e;
}
}  // namespace

void ImportanceMatrix::merge(const ImportanceMatrix& other) {
  const int64_t raw_chunk = chunk_size ? chunk_size : other.chunk_size;
  for (const auto& theirs : other.entries_) {
    if (const ImatrixEntry* mine = find(theirs.name); mine && mine->sums.size() != theirs.sums.size())
      bad("'" + theirs.name + "' has " + std::to_string(mine->sums.size()) + " columns in one importance matrix and " +
          std::to_string(theirs.sums.size()) + " in the other (different models?)");
    ImatrixEntry& e = entry(theirs.name, static_cast<int64_t>(theirs.sums.size()));
    if (!theirs.expert_counts.empty() || !e.expert_counts.empty()) {  // experts: per-expert sums and counts add up
      if (e.count == 0 && e.expert_counts.empty()) e.expert_counts.assign(theirs.expert_counts.size(), 0);
      if (e.expert_counts.size() != theirs.expert_counts.size())
        bad("'" + theirs.name + "' has per-expert statistics in one importance matrix and not in the other");
      for (size_t j = 0; j < e.sums.size(); ++j) e.sums[j] += theirs.sums[j];
      for (size_t x = 0; x < e.expert_counts.size(); ++x) e.expert_counts[x] += theirs.expert_counts[x];
      e.count += theirs.count;
      e.ncall += theirs.ncall;
      continue;
    }
    const ImatrixEntry* o = &theirs;
    ImatrixEntry converted;
    if (e.count != 0 && holds_legacy_values(e) != holds_legacy_values(theirs)) {
      // Mixed layouts: bring the legacy side to raw sums before adding.
      if (holds_legacy_values(e)) {
        e = as_raw(std::move(e), raw_chunk);
      } else {
        converted = as_raw(theirs, raw_chunk);
        o = &converted;
      }
    }
    for (size_t j = 0; j < o->sums.size(); ++j) e.sums[j] += o->sums[j];
    e.count += o->count;
    e.ncall += o->ncall;
  }
  chunks += other.chunks;
  if (!chunk_size) chunk_size = other.chunk_size;
  for (const auto& d : other.datasets)
    if (std::find(datasets.begin(), datasets.end(), d) == datasets.end()) datasets.push_back(d);
}

int64_t importance_runs(const Shape& shape) noexcept { return shape.rank() == 3 ? shape.dims()[0] : 1; }

const float* importance_of_row(std::span<const float> importance, const Shape& shape, uint64_t row) noexcept {
  if (importance.empty()) return nullptr;
  const auto cols = static_cast<uint64_t>(shape.row_length());
  if (importance.size() == cols || shape.rank() != 3) return importance.data();
  return importance.data() + row / static_cast<uint64_t>(shape.dims()[1]) * cols;
}

void ImportanceMatrix::order_as_llama_imatrix() {
  std::unordered_map<std::string, size_t> order;
  for (size_t i = 0; i < entries_.size(); ++i) order[entries_[i].name] = i;
  std::vector<ImatrixEntry> sorted;
  sorted.reserve(entries_.size());
  index_.clear();
  for (const auto& [name, i] : order) {
    index_.emplace(name, sorted.size());
    sorted.push_back(std::move(entries_[i]));
  }
  entries_ = std::move(sorted);
}

size_t ImportanceMatrix::erase_if(const std::function<bool(const ImatrixEntry&)>& drop) {
  const size_t before = entries_.size();
  std::erase_if(entries_, drop);
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].name, i);
  return before - entries_.size();
}

const ImatrixEntry* ImportanceMatrix::find(std::string_view weight) const noexcept {
  auto it = index_.find(weight);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

// ---- legacy .dat ------------------------------------------------------------

namespace {

class Reader {
 public:
  explicit Reader(std::span<const std::byte> b) : b_(b) {}
  template <typename T>
  T get(const char* what) {
    if (b_.size() - pos_ < sizeof(T)) bad(std::string("file ends inside ") + what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str(int32_t len, const char* what) {
    if (len < 0 || static_cast<size_t>(len) > b_.size() - pos_) bad(std::string("bad length of ") + what);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }
  size_t left() const { return b_.size() - pos_; }

 private:
  std::span<const std::byte> b_;
  size_t pos_ = 0;
};
// What every loaded entry must satisfy before any quantizer divides by it:
// finite, non-negative sums of squares and at least one call.
void check_loaded_entry(const ImatrixEntry& e) {
  if (e.ncall <= 0 || e.count <= 0) bad("entry '" + e.name + "' has a call count of " + std::to_string(e.ncall));
  for (size_t j = 0; j < e.sums.size(); ++j)
    if (!std::isfinite(e.sums[j]) || e.sums[j] < 0)
      bad("entry '" + e.name + "' holds " + std::to_string(e.sums[j]) + " at column " + std::to_string(j) +
          " (sums of squares are finite and non-negative)");
}
}  // namespace

ImportanceMatrix ImportanceMatrix::parse_legacy(std::span<const std::byte> bytes) {
  Reader r(bytes);
  ImportanceMatrix m;
  const auto n = r.get<int32_t>("entry count");
  if (n < 0 || static_cast<size_t>(n) > r.left() / 12) bad("entry count " + std::to_string(n) + " is impossible");
  for (int32_t i = 0; i < n; ++i) {
    const std::string name = r.str(r.get<int32_t>("name length"), "a name");
    const auto ncall = r.get<int32_t>("call count");
    const auto nval = r.get<int32_t>("value count");
    if (ncall < 0 || nval < 0 || static_cast<size_t>(nval) > r.left() / 4) bad("entry '" + name + "' has bad counts");
    if (m.index_.count(name)) bad("duplicate entry '" + name + "'");
    // Stored values are mean * ncall; keeping them with count = ncall re-saves them verbatim.
    ImatrixEntry& e = m.entry(name, nval);
    for (int32_t j = 0; j < nval; ++j) e.sums[static_cast<size_t>(j)] = r.get<float>("values");
    e.count = ncall;
    e.ncall = ncall;
    check_loaded_entry(e);
  }
  if (r.left() >= 4) {  // optional trailer: chunks and dataset name
    m.chunks = r.get<int32_t>("chunk count");
    if (r.left() >= 4) {
      std::string d = r.str(r.get<int32_t>("dataset length"), "the dataset name");
      if (!d.empty()) m.datasets.push_back(std::move(d));
    }
  }
  if (r.left() != 0) bad(std::to_string(r.left()) + " unexpected trailing bytes");
  return m;
}

ImportanceMatrix ImportanceMatrix::load_legacy(const fs::path& path) {
  if (!fs::exists(path))
    throw Error(ErrorCode::ImatrixInvalid, "importance matrix '" + path.string() + "' not found",
                "Check the path of the importance matrix (`imatrix`, `input_imatrices`)");
  const MappedFile f(path);
  return parse_legacy(f.bytes());
}

void ImportanceMatrix::save_legacy(const fs::path& path) const {
  AtomicFile out(path);
  auto put_i32 = [&](int64_t v) {
    const auto x = static_cast<int32_t>(v);
    out.write(&x, 4);
  };
  // As llama-imatrix: an expert weight no token reached is left out; experts
  // without tokens store 1 (partial data).
  std::vector<const ImatrixEntry*> kept;
  for (const auto& e : entries_)
    if (e.count > 0 || e.expert_counts.empty()) kept.push_back(&e);
  put_i32(static_cast<int64_t>(kept.size()));
  std::vector<float> tmp;
  for (const ImatrixEntry* ep : kept) {
    const ImatrixEntry& e = *ep;
    const int64_t ncall = e.expert_counts.empty() ? e.ncall : expert_ncall(e, chunk_size);
    put_i32(static_cast<int64_t>(e.name.size()));
    out.write(e.name.data(), e.name.size());
    put_i32(ncall);
    put_i32(static_cast<int64_t>(e.sums.size()));
    tmp.resize(e.sums.size());
    const size_t cols = e.expert_counts.empty() ? e.sums.size() : e.sums.size() / e.expert_counts.size();
    for (size_t j = 0; j < e.sums.size(); ++j) {
      const int64_t count = e.expert_counts.empty() ? e.count : e.expert_counts[j / cols];
      tmp[j] = holds_legacy_values(e) ? e.sums[j]
               : count == 0           ? static_cast<float>(ncall)
                                      : (e.sums[j] / static_cast<float>(count)) * static_cast<float>(ncall);
    }
    out.write(tmp.data(), tmp.size() * 4);
  }
  put_i32(chunks);
  const std::string d = datasets.empty() ? std::string() : datasets.front();
  put_i32(static_cast<int64_t>(d.size()));
  out.write(d.data(), d.size());
  out.commit();
}

// ---- GGUF imatrix -------------------------------------------------------------

void ImportanceMatrix::save_gguf(const fs::path& path, bool keep_order) const {
  std::vector<io::GgufKv> kvs = {
      {"general.type", io::GgufValue::str("imatrix")},
      {"imatrix.datasets", io::GgufValue::string_array(datasets)},
      {"imatrix.chunk_count", io::GgufValue::u32(static_cast<uint32_t>(chunks))},
      {"imatrix.chunk_size", io::GgufValue::u32(static_cast<uint32_t>(chunk_size))},
  };
  std::vector<const ImatrixEntry*> sorted;
  for (const auto& e : entries_) sorted.push_back(&e);
  if (!keep_order) std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::vector<std::pair<std::string, std::pair<DType, Shape>>> specs;
  for (const auto* e : sorted) {
    // llama-imatrix's [cols, n_mat] and [1, n_mat], whose trailing 1s GGUF drops: 1-D for plain weights.
    const auto n_mat = static_cast<int64_t>(std::max<size_t>(1, e->expert_counts.size()));
    const auto cols = static_cast<int64_t>(e->sums.size()) / n_mat;
    specs.push_back({e->name + ".in_sum2", {DType::F32, n_mat > 1 ? Shape({n_mat, cols}) : Shape({cols})}});
    specs.push_back({e->name + ".counts", {DType::F32, n_mat > 1 ? Shape({n_mat, 1}) : Shape({1})}});
  }
  io::GgufWriter w(path, std::move(kvs), specs);
  for (const auto* e : sorted) {
    // A legacy-loaded entry holds mean * ncall; its raw sums are that times chunk_size.
    const bool legacy = holds_legacy_values(*e);
    const float scale = legacy ? static_cast<float>(std::max<int64_t>(1, chunk_size)) : 1.0f;
    std::vector<float> s(e->sums);
    for (auto& v : s) v *= scale;
    std::vector<float> c = {static_cast<float>(e->count) * scale};
    if (!e->expert_counts.empty()) c.assign(e->expert_counts.begin(), e->expert_counts.end());
    w.write_tensor({reinterpret_cast<const std::byte*>(s.data()), s.size() * 4});
    w.write_tensor({reinterpret_cast<const std::byte*>(c.data()), c.size() * 4});
  }
  w.finish();
}

ImportanceMatrix ImportanceMatrix::load_gguf(const fs::path& path) {
  const io::GgufFile f(path);
  const auto& h = f.header();
  const io::GgufValue* type = h.find("general.type");
  if (!type || type->as_string() != "imatrix") bad("'" + path.string() + "' is a GGUF file but not an imatrix");
  ImportanceMatrix m;
  if (const auto* v = h.find("imatrix.chunk_count")) m.chunks = v->as_int();
  if (const auto* v = h.find("imatrix.chunk_size")) m.chunk_size = v->as_int();
  if (m.chunks < 0) bad("imatrix.chunk_count is negative");
  // 0: unknown (a file converted from the legacy layout, which has no chunk size).
  if (m.chunk_size < 0) bad("imatrix.chunk_size is " + std::to_string(m.chunk_size) + " (tokens per chunk)");
  if (const auto* v = h.find("imatrix.datasets"); v && v->is_array())
    for (size_t i = 0; i < v->array().size(); ++i) m.datasets.emplace_back(v->array().string_at(i));
  for (const auto& t : h.tensors) {
    const std::string suffix = ".in_sum2";
    if (t.name.size() <= suffix.size() || t.name.substr(t.name.size() - suffix.size()) != suffix) continue;
    const std::string name = t.name.substr(0, t.name.size() - suffix.size());
    const io::GgufTensorInfo* counts = h.find_tensor(name + ".counts");
    if (!counts || t.type != DType::F32 || counts->type != DType::F32 || counts->shape.numel() < 1)
      bad("tensor '" + t.name + "' has no F32 '.counts' partner");
    // One row of sums and one count per matrix: several for a stacked expert weight.
    const uint64_t n_mat = t.shape.rank() <= 1 ? 1 : t.shape.rows();
    if (m.index_.count(name)) bad("duplicate entry '" + name + "'");
    if (n_mat == 0 || counts->shape.numel() != n_mat)
      bad("'" + counts->name + "' holds " + std::to_string(counts->shape.numel()) + " counts for " +
          std::to_string(n_mat) + " rows of sums");
    const auto data = f.view(t).as<float>();
    ImatrixEntry& e = m.entry(name, static_cast<int64_t>(data.size()));
    std::copy(data.begin(), data.end(), e.sums.begin());
    const auto cv = f.view(*counts).as<float>();
    for (const float count : cv)
      if (!std::isfinite(count) || count < 0 || count > 9.0e15f || count != std::floor(count))
        bad("'" + counts->name + "' holds " + std::to_string(count) + " (a token count)");
    if (n_mat > 1)
      for (const float count : cv) e.expert_counts.push_back(static_cast<int64_t>(count));
    for (const float count : cv) e.count += static_cast<int64_t>(count);
    e.ncall = e.expert_counts.empty() ? (m.chunk_size ? std::max<int64_t>(1, e.count / m.chunk_size) : e.count)
                                      : expert_ncall(e, m.chunk_size);
    check_loaded_entry(e);
  }
  return m;
}

ImportanceMatrix ImportanceMatrix::load(const fs::path& path) {
  if (!fs::exists(path))
    throw Error(ErrorCode::ImatrixInvalid, "importance matrix '" + path.string() + "' not found",
                "Check the path of the importance matrix (`imatrix`, `input_imatrices`)");
  const MappedFile f(path);
  if (f.size() >= 4 && std::memcmp(f.bytes().data(), "GGUF", 4) == 0) {
    try {
      return load_gguf(path);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::ImatrixInvalid) throw;
      throw Error(ErrorCode::ImatrixInvalid, e.what(), e.suggestion());
    }
  }
  return parse_legacy(f.bytes());
}

void ImatrixCollector::on_input(const calib::LinearInput& in) {
  // llama-imatrix only collects blk.* weights (and output with --process-output)
  // and ignores matrix products with fewer than 16 rows.
  if (in.expert >= 0) return m_.accumulate_expert(in.weight, in.expert, in.n_experts, in.x, in.rows, in.cols);
  if (in.rows < 16) return;
  const bool block = in.weight.rfind("blk.", 0) == 0;
  if (!block && !(output_ && in.weight == "output.weight")) return;
  m_.accumulate(in.weight, in.x, in.rows, in.cols, calls_);
}

}  // namespace libquant::methods
