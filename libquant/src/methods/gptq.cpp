#include "libquant/methods/gptq.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::methods {

namespace {

// U with H^-1 = U^T U for A + damp * mean(diag A) * I, where `a` holds
// A = J H J (H with its order reversed, J the exchange matrix); false when
// that is not positive definite. With A = L L^T: H^-1 = J L^-T L^-1 J, and
// U = J L^-1 J is upper triangular: one Cholesky and one triangular inverse
// (2/3 n^3 flops) instead of Cholesky, inverse, Cholesky again (4/3 n^3).
// The row-major buffer is LAPACK's column-major transpose, so the 'U' calls
// below work on the row-major lower triangle and leave the upper one as it was.
bool inverse_cholesky(std::vector<double>& a, int64_t n, double damp, std::vector<float>& u) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += a[static_cast<size_t>(i * n + i)];
  mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) a[static_cast<size_t>(i * n + i)] += damp * mean;
  const auto ln = static_cast<lapack_int>(n);
  if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', ln, a.data(), ln) != 0) return false;       // row-major lower: L
  if (LAPACKE_dtrtri_work(LAPACK_COL_MAJOR, 'U', 'N', ln, a.data(), ln) != 0) return false;  // L^-1
  u.assign(static_cast<size_t>(n * n), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j)
      u[static_cast<size_t>(i * n + j)] = static_cast<float>(a[static_cast<size_t>((n - 1 - i) * n + (n - 1 - j))]);
  return true;
}

// Columns by descending H_ii (stable, so ties keep their natural order).
std::vector<int64_t> activation_order(const std::vector<double>& h, int64_t n) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
    return h[static_cast<size_t>(a * n + a)] > h[static_cast<size_t>(b * n + b)];
  });
  return perm;
}

}  // namespace

GptqInverse gptq_inverse(std::string_view name, std::vector<double> h, int64_t cols, const GptqOptions& opts) {
  check(cols > 0 && static_cast<int64_t>(h.size()) == cols * cols, ErrorCode::InvalidArgument,
        "Hessian of '" + std::string(name) + "' is not " + std::to_string(cols) + " x " + std::to_string(cols));
  check(opts.damp >= 0, ErrorCode::InvalidArgument, "damping must be >= 0");
  GptqInverse inv;
  inv.cols = cols;
  if (opts.act_order != ActOrder::None) {
    inv.order = activation_order(h, cols);
    std::vector<double> permuted(h.size());
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        permuted[static_cast<size_t>(i * cols + j)] =
            h[static_cast<size_t>(inv.order[static_cast<size_t>(i)] * cols + inv.order[static_cast<size_t>(j)])];
    h = std::move(permuted);
  }
  // Dead inputs (never nonzero) get a unit diagonal (and zero weights), as the reference.
  inv.dead.assign(static_cast<size_t>(cols), false);
  for (int64_t i = 0; i < cols; ++i)
    if (h[static_cast<size_t>(i * cols + i)] == 0)
      inv.dead[static_cast<size_t>(i)] = true, h[static_cast<size_t>(i * cols + i)] = 1, ++inv.dead_columns;

  // Damping as asked; when H is still not positive definite (an input that
  // is a linear combination of others), ten and a hundred times more.
  // LAPACK only touches the lower triangle, so a failed attempt is undone
  // from the upper one and the saved diagonal (no second copy of H).
  std::reverse(h.begin(), h.end());  // J H J
  std::vector<double> diagonal(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) diagonal[static_cast<size_t>(i)] = h[static_cast<size_t>(i * cols + i)];
  bool ok = false;
  for (int attempt = 0; attempt < 4 && !ok; ++attempt) {
    inv.damp_used = attempt == 0 ? opts.damp : std::max(opts.damp, 0.01) * std::pow(10.0, attempt);
    if (attempt > 0)
      for (int64_t i = 0; i < cols; ++i) {
        h[static_cast<size_t>(i * cols + i)] = diagonal[static_cast<size_t>(i)];
        for (int64_t j = 0; j < i; ++j) h[static_cast<size_t>(i * cols + j)] = h[static_cast<size_t>(j * cols + i)];
      }
    ok = inverse_cholesky(h, cols, inv.damp_used, inv.u);
  }
  check(ok, ErrorCode::SmoothQuantFailed,
        "GPTQ failed on '" + std::string(name) + "': its Hessian is not positive definite even with damping " +
            std::to_string(inv.damp_used),
        "Use more or longer calibration samples, or round to nearest (`method = rtn`)");
  return inv;
}

GptqResult gptq_quantize(std::string_view name, const float* w, int64_t rows, int64_t cols, std::vector<double> h,
                         const GptqOptions& opts, ThreadPool* pool) {
  const GptqInverse inv = gptq_inverse(name, std::move(h), cols, opts);
  return gptq_quantize(name, w, rows, inv, opts, pool);
}

GptqResult gptq_quantize(std::string_view name, const float* w, int64_t rows, const GptqInverse& inv,
                         const GptqOptions& opts, ThreadPool* pool) {
  const IntWeightScheme& s = opts.scheme;
  const int64_t cols = inv.cols;
  validate_scheme(s);
  check(group_size_fits(s, cols), ErrorCode::InvalidArgument,
        "group size " + std::to_string(s.group_size) + " does not divide the " + std::to_string(cols) +
            " columns of '" + std::string(name) + "'");
  check(opts.block > 0, ErrorCode::InvalidArgument, "the GPTQ block must be positive");
  check(inv.order.empty() == (opts.act_order == ActOrder::None) && static_cast<int64_t>(inv.u.size()) == cols * cols,
        ErrorCode::InvalidArgument, "the inverse Hessian of '" + std::string(name) + "' was made for other options");

  GptqResult res;
  res.damp_used = inv.damp_used, res.dead_columns = inv.dead_columns;
  IntWeight& out = res.weight;
  out.rows = rows, out.cols = cols, out.scheme = s;
  const int64_t groups = s.groups(cols), gs = s.columns_per_group(cols);
  const bool act_order = !inv.order.empty();
  auto col = [&](int64_t p) { return act_order ? inv.order[static_cast<size_t>(p)] : p; };
  const std::vector<float>& u = inv.u;

  // Working copy in sweep order, dead inputs zeroed.
  std::vector<float> wp(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i)
      wp[static_cast<size_t>(r * cols + i)] = inv.dead[static_cast<size_t>(i)] ? 0.0f : w[r * cols + col(i)];

  // Every scale is fixed before the sweep from the weights as they are (the
  // min-max observer over each group), as llm-compressor does: in natural
  // column groups, or with dynamic activation order in the sweep's own
  // contiguous groups. (The GPTQ reference instead takes a group's scale from
  // the partly updated weights when the sweep reaches it; on stories260K with
  // groups of 4 that gave 1% higher perplexity.)
  out.scales.assign(static_cast<size_t>(rows * groups), 0.0f);
  if (!s.symmetric) out.zeros.assign(out.scales.size(), 0);
  std::vector<float> permuted_row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* src_row = w + r * cols;
    if (opts.act_order == ActOrder::Group) {
      for (int64_t p = 0; p < cols; ++p) permuted_row[static_cast<size_t>(p)] = src_row[col(p)];
      src_row = permuted_row.data();
    }
    for (int64_t g = 0; g < groups; ++g) {
      float scale;
      int zero;
      int_qparams(src_row + g * gs, gs, s, scale, zero);
      out.scales[static_cast<size_t>(r * groups + g)] = scale;
      if (!s.symmetric) out.zeros[static_cast<size_t>(r * groups + g)] = static_cast<int8_t>(zero);
    }
  }
  // The group (scale column) of the column at sweep position p.
  auto group_at = [&](int64_t p) -> int64_t {
    if (s.group_size <= 0) return 0;
    return opts.act_order == ActOrder::Group ? p / gs : col(p) / gs;
  };

  std::vector<int8_t> qp(static_cast<size_t>(rows * cols));
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);
  const int64_t B = opts.block;
  std::vector<float> err(static_cast<size_t>(rows * B));
  for (int64_t i1 = 0; i1 < cols; i1 += B) {
    const int64_t i2 = std::min(i1 + B, cols), count = i2 - i1;
    // Within the block each row is independent: quantize its columns in
    // order, pushing each error onto the block's remaining columns.
    // Then the block's errors onto every later column of those rows at once:
    // W[r, i2:] -= Err[r, block] * U[block, i2:]. One BLAS call per chunk of
    // rows, so the pool's threads do all the work (no second set of threads).
    auto sweep_rows = [&](size_t r0, size_t r1) {
      for (auto r = static_cast<int64_t>(r0); r < static_cast<int64_t>(r1); ++r) {
        float* wr = wp.data() + r * cols;
        for (int64_t i = i1; i < i2; ++i) {
          const int64_t g = group_at(i);
          const size_t k = static_cast<size_t>(r * groups + g);
          const float scale = out.scales[k];
          const int zero = s.symmetric ? 0 : out.zeros[k];
          const int q = quantize_int(wr[i], scale, zero, s);
          const float d = u[static_cast<size_t>(i * cols + i)];
          const float e = (wr[i] - dequantize_int(q, scale, zero, s.scale_dtype)) / d;
          qp[static_cast<size_t>(r * cols + i)] = static_cast<int8_t>(q);
          row_loss[static_cast<size_t>(r)] += 0.5 * static_cast<double>(e) * e;
          const float* ui = u.data() + i * cols;
          for (int64_t j = i + 1; j < i2; ++j) wr[j] -= e * ui[j];
          err[static_cast<size_t>(r * B + (i - i1))] = e;
        }
      }
      if (i2 < cols)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(r1 - r0), static_cast<int>(cols - i2),
                    static_cast<int>(count), -1.0f, err.data() + r0 * static_cast<size_t>(B), static_cast<int>(B),
                    u.data() + i1 * cols + i2, static_cast<int>(cols), 1.0f,
                    wp.data() + r0 * static_cast<size_t>(cols) + i2, static_cast<int>(cols));
    };
    const size_t threads = pool ? pool->size() : 1;
    if (threads > 1)
      pool->parallel_for(static_cast<size_t>(rows), (static_cast<size_t>(rows) + threads - 1) / threads, sweep_rows);
    else
      sweep_rows(0, static_cast<size_t>(rows));
  }
  res.loss = std::accumulate(row_loss.begin(), row_loss.end(), 0.0);

  // Back to the natural column order.
  out.q.resize(qp.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < cols; ++p)
      out.q[static_cast<size_t>(r * cols + col(p))] = qp[static_cast<size_t>(r * cols + p)];
  if (opts.act_order == ActOrder::Group && s.group_size > 0) {
    out.g_idx.resize(static_cast<size_t>(cols));
    for (int64_t p = 0; p < cols; ++p) out.g_idx[static_cast<size_t>(col(p))] = static_cast<int32_t>(p / gs);
  }
  return res;
}

HessianCollector::HessianCollector(std::vector<std::string> wanted) : wanted_(std::move(wanted)) {}

namespace {
// Linears that read the same activations share a key (q/k/v, gate/up).
std::string input_key(std::string_view weight) {
  std::string k(weight);
  for (const auto& [from, to] :
       {std::pair{".attn_k.", ".attn_q."}, {".attn_v.", ".attn_q."}, {".ffn_up.", ".ffn_gate."}})
    if (auto p = k.find(from); p != std::string::npos) k.replace(p, std::string_view(from).size(), to);
  return k;
}
}  // namespace

void HessianCollector::on_input(const calib::LinearInput& in) {
  if (std::find(wanted_.begin(), wanted_.end(), in.weight) == wanted_.end()) return;
  const std::string key = input_key(in.weight);
  auto& shared = by_input_[key];
  if (!shared) shared = std::make_shared<Sum>();
  by_weight_[std::string(in.weight)] = shared;
  // The same buffer reported again right away for a linear of the same
  // input (k and v after q): already counted.
  const bool repeat = last_sum_ == shared && last_x_ == in.x && last_rows_ == in.rows;
  last_x_ = in.x, last_rows_ = in.rows, last_sum_ = shared;
  if (repeat) return;
  Sum& S = *shared;
  if (S.cols == 0) S.cols = in.cols, S.xtx.assign(static_cast<size_t>(in.cols * in.cols), 0.0);
  check(S.cols == in.cols, ErrorCode::InvalidArgument, "inputs of '" + std::string(in.weight) + "' changed width");
  scratch_.resize(static_cast<size_t>(in.cols * in.cols));
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(in.cols), static_cast<int>(in.rows), 1.0f, in.x,
              static_cast<int>(in.cols), 0.0f, scratch_.data(), static_cast<int>(in.cols));
  for (int64_t i = 0; i < in.cols; ++i)
    for (int64_t j = i; j < in.cols; ++j)
      S.xtx[static_cast<size_t>(i * in.cols + j)] += scratch_[static_cast<size_t>(i * in.cols + j)];
  S.tokens += in.rows;
}

std::vector<double> HessianCollector::hessian(const std::string& weight) const {
  auto it = by_weight_.find(weight);
  if (it == by_weight_.end() || it->second->tokens == 0) return {};
  const Sum& S = *it->second;
  const int64_t n = S.cols;
  const double f = 2.0 / static_cast<double>(S.tokens);
  std::vector<double> h(static_cast<size_t>(n * n));
  // In tiles, so the mirrored writes below the diagonal stay in cache.
  constexpr int64_t T = 64;
  for (int64_t i0 = 0; i0 < n; i0 += T)
    for (int64_t j0 = i0; j0 < n; j0 += T)
      for (int64_t i = i0; i < std::min(i0 + T, n); ++i)
        for (int64_t j = std::max(i, j0); j < std::min(j0 + T, n); ++j)
          h[static_cast<size_t>(i * n + j)] = h[static_cast<size_t>(j * n + i)] =
              f * S.xtx[static_cast<size_t>(i * n + j)];
  return h;
}

std::string HessianCollector::input_of(const std::string& weight) const { return input_key(weight); }

int64_t HessianCollector::tokens(const std::string& weight) const {
  auto it = by_weight_.find(weight);
  return it == by_weight_.end() ? 0 : it->second->tokens;
}

void HessianCollector::clear() {
  by_input_.clear();
  by_weight_.clear();
  last_x_ = nullptr, last_rows_ = 0, last_sum_.reset();
}

}  // namespace libquant::methods
