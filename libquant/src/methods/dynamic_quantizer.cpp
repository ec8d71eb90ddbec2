#include "libquant/methods/dynamic_quantizer.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/mixture.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::methods {

std::vector<DType> default_dynamic_candidates() {
  const std::vector<DType> all = {DType::IQ2_XXS, DType::IQ2_XS, DType::IQ2_S,  DType::Q2_K,   DType::IQ3_XXS,
                                  DType::IQ3_S,   DType::Q3_K,   DType::IQ4_XS, DType::IQ4_NL, DType::Q4_0,
                                  DType::Q4_1,    DType::Q4_K,   DType::Q5_0,   DType::Q5_1,   DType::Q5_K,
                                  DType::Q6_K,    DType::Q8_0};
  std::vector<DType> out;
  for (DType t : all)
    if (gguf::can_quantize(t) && gguf::can_dequantize(t)) out.push_back(t);
  return out;
}

bool fits_row(DType t, int64_t n_per_row) noexcept {
  const auto bs = static_cast<int64_t>(traits(t).block_size);
  return n_per_row > 0 && bs > 0 && n_per_row % bs == 0;
}

uint64_t stored_bytes(DType t, int64_t rows, int64_t n_per_row, uint64_t alignment) {
  const uint64_t b = row_bytes(t, n_per_row) * static_cast<uint64_t>(rows);
  return (b + alignment - 1) / alignment * alignment;
}

namespace {
double weighted_error(DType t, const float* rows, int64_t n, int64_t n_per_row, const float* importance) {
  std::vector<std::byte> enc(row_bytes(t, n_per_row) * static_cast<uint64_t>(n));
  std::vector<float> dec(static_cast<size_t>(n * n_per_row));
  gguf::quantize_rows(t, rows, enc.data(), n, n_per_row, importance);
  gguf::dequantize(t, enc.data(), dec.data(), n * n_per_row);
  double e = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < n_per_row; ++j) {
      const double d = static_cast<double>(rows[r * n_per_row + j]) - dec[static_cast<size_t>(r * n_per_row + j)];
      e += (importance ? importance[j] : 1.0) * d * d;
    }
  return e;
}
}  // namespace

std::vector<QuantOption> measure_options(const float* sample, int64_t n_sample, int64_t total_rows, int64_t n_per_row,
                                         const float* importance, const std::vector<DType>& candidates,
                                         ThreadPool* pool) {
  std::vector<DType> usable;
  for (DType t : candidates)
    if (fits_row(t, n_per_row) && (importance || !gguf::requires_importance(t))) usable.push_back(t);
  std::vector<QuantOption> opts(usable.size());
  const double scale = n_sample > 0 ? static_cast<double>(total_rows) / static_cast<double>(n_sample) : 0.0;
  auto work = [&](size_t a, size_t b) {
    for (size_t i = a; i < b; ++i)
      opts[i] = {usable[i], stored_bytes(usable[i], total_rows, n_per_row),
                 scale * weighted_error(usable[i], sample, n_sample, n_per_row, importance)};
  };
  if (pool)
    pool->parallel_for(usable.size(), 1, work);
  else
    work(0, usable.size());
  // Keep the Pareto front: ascending bytes, strictly falling error.
  std::sort(opts.begin(), opts.end(), [](const QuantOption& x, const QuantOption& y) {
    return x.bytes != y.bytes ? x.bytes < y.bytes : x.error < y.error;
  });
  std::vector<QuantOption> front;
  for (const auto& o : opts)
    if (front.empty() || o.error < front.back().error) {
      if (!front.empty() && front.back().bytes == o.bytes)
        front.back() = o;
      else
        front.push_back(o);
    }
  return front;
}

namespace {
// Indices of the lower convex hull of (bytes, damage) over a Pareto front:
// the steps a greedy allocator takes, with falling gain per byte.
std::vector<size_t> lower_hull(const std::vector<QuantOption>& o, double sens) {
  std::vector<size_t> h;
  for (size_t i = 0; i < o.size(); ++i) {
    while (h.size() >= 2) {
      const auto& a = o[h[h.size() - 2]];
      const auto& b = o[h.back()];
      // b is above the segment a -> i: drop it.
      const double lhs = (sens * b.error - sens * a.error) * static_cast<double>(o[i].bytes - a.bytes);
      const double rhs = (sens * o[i].error - sens * a.error) * static_cast<double>(b.bytes - a.bytes);
      if (lhs >= rhs)
        h.pop_back();
      else
        break;
    }
    h.push_back(i);
  }
  return h;
}
}  // namespace

namespace {
double damage_of(const std::vector<TensorOptions>& ts, size_t t, size_t o) {
  return ts[t].sensitivity * ts[t].options[o].error;
}

uint64_t bytes_of(const std::vector<TensorOptions>& ts, const std::vector<size_t>& choice) {
  uint64_t b = 0;
  for (size_t t = 0; t < ts.size(); ++t) b += ts[t].options[choice[t]].bytes;
  return b;
}

// Spends what is left on the best single upgrades (any option, not only hull
// steps) that still fit.
void fill_leftover(const std::vector<TensorOptions>& tensors, std::vector<size_t>& choice, uint64_t budget_bytes) {
  uint64_t used = bytes_of(tensors, choice);
  for (;;) {
    double best = 0;
    size_t bt = 0, bo = 0;
    for (size_t t = 0; t < tensors.size(); ++t)
      for (size_t o = choice[t] + 1; o < tensors[t].options.size(); ++o) {
        const uint64_t extra = tensors[t].options[o].bytes - tensors[t].options[choice[t]].bytes;
        if (used + extra > budget_bytes) break;  // ascending bytes
        const double gain = (damage_of(tensors, t, choice[t]) - damage_of(tensors, t, o)) / static_cast<double>(extra);
        if (gain > best) best = gain, bt = t, bo = o;
      }
    if (best <= 0) break;
    used += tensors[bt].options[bo].bytes - tensors[bt].options[choice[bt]].bytes;
    choice[bt] = bo;
  }
}

// Exact multiple-choice knapsack over the budget in units of `unit` bytes,
// each option's size rounded up (so the result always fits).
std::vector<size_t> knapsack(const std::vector<TensorOptions>& ts, uint64_t budget_bytes, uint64_t unit) {
  const auto cap = static_cast<size_t>(budget_bytes / unit);
  std::vector<double> best(cap + 1, 0.0), next(cap + 1);
  std::vector<std::vector<uint8_t>> pick(ts.size(), std::vector<uint8_t>(cap + 1, 0));
  for (size_t t = 0; t < ts.size(); ++t) {
    std::fill(next.begin(), next.end(), INFINITY);
    for (size_t o = 0; o < ts[t].options.size(); ++o) {
      const auto w = static_cast<size_t>((ts[t].options[o].bytes + unit - 1) / unit);
      const double d = damage_of(ts, t, o);
      for (size_t u = w; u <= cap; ++u)
        if (best[u - w] + d < next[u]) next[u] = best[u - w] + d, pick[t][u] = static_cast<uint8_t>(o);
    }
    best.swap(next);
  }
  std::vector<size_t> choice(ts.size(), 0);
  if (!std::isfinite(best[cap])) return {};
  size_t u = cap;
  for (size_t t = ts.size(); t-- > 0;) {
    choice[t] = pick[t][u];
    u -= static_cast<size_t>((ts[t].options[choice[t]].bytes + unit - 1) / unit);
  }
  return choice;
}

// Hull steps by gain per byte, best first, while they fit.
std::vector<size_t> greedy(const std::vector<TensorOptions>& tensors, uint64_t budget_bytes) {
  std::vector<size_t> choice(tensors.size(), 0);
  uint64_t used = bytes_of(tensors, choice);
  std::vector<std::vector<size_t>> hulls;
  std::vector<size_t> pos(tensors.size(), 0);
  using Step = std::pair<double, size_t>;  // gain per byte, tensor
  std::priority_queue<Step> q;
  auto push_next = [&](size_t t) {
    const auto& h = hulls[t];
    if (pos[t] + 1 >= h.size()) return;
    const size_t from = h[pos[t]], to = h[pos[t] + 1];
    const double gain = damage_of(tensors, t, from) - damage_of(tensors, t, to);
    q.push({gain / static_cast<double>(tensors[t].options[to].bytes - tensors[t].options[from].bytes), t});
  };
  for (size_t t = 0; t < tensors.size(); ++t) {
    hulls.push_back(lower_hull(tensors[t].options, tensors[t].sensitivity));
    push_next(t);
  }
  while (!q.empty()) {
    const size_t t = q.top().second;
    q.pop();
    const size_t from = hulls[t][pos[t]], to = hulls[t][pos[t] + 1];
    const uint64_t extra = tensors[t].options[to].bytes - tensors[t].options[from].bytes;
    if (used + extra > budget_bytes) continue;  // this tensor stops here; others may still fit
    used += extra;
    choice[t] = to;
    ++pos[t];
    push_next(t);
  }
  return choice;
}

double total_damage(const std::vector<TensorOptions>& ts, const std::vector<size_t>& choice) {
  double d = 0;
  for (size_t t = 0; t < ts.size(); ++t) d += damage_of(ts, t, choice[t]);
  return d;
}
}  // namespace

BitAllocation allocate_bits(const std::vector<TensorOptions>& tensors, uint64_t budget_bytes) {
  uint64_t minimum = 0;
  for (const auto& t : tensors) {
    check(!t.options.empty() && t.options.size() <= 255, ErrorCode::InvalidArgument,
          "tensor '" + t.name + "' has no usable quantization type");
    minimum += t.options.front().bytes;
  }
  if (minimum > budget_bytes)
    throw Error(ErrorCode::InvalidArgument,
                "the size budget is too small: the smallest types need " + std::to_string(minimum) +
                    " bytes, the budget is " + std::to_string(budget_bytes),
                "Raise the `target_bpw` / `target_size_bytes`");
  // Two solvers, the better result kept: the greedy hull walk (near-optimal
  // when every tensor is small against the budget) and an exact knapsack on
  // sizes rounded up to 1/65536 of the budget (exact for small problems);
  // both then fill the leftover bytes.
  std::vector<size_t> g = greedy(tensors, budget_bytes);
  fill_leftover(tensors, g, budget_bytes);
  const uint64_t unit = std::max<uint64_t>(32, (budget_bytes + 65535) / 65536);
  std::vector<size_t> k = knapsack(tensors, budget_bytes, unit);
  if (!k.empty()) fill_leftover(tensors, k, budget_bytes);
  const std::vector<size_t>& choice = !k.empty() && total_damage(tensors, k) < total_damage(tensors, g) ? k : g;

  BitAllocation a;
  a.bytes = bytes_of(tensors, choice);
  a.damage = total_damage(tensors, choice);
  for (size_t t = 0; t < tensors.size(); ++t) a.types[tensors[t].name] = tensors[t].options[choice[t]].type;
  return a;
}

}  // namespace libquant::methods
