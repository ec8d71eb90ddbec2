#include "libquant/cpu/littlebit_linear.hpp"

#include <cblas.h>

#include <algorithm>
#include <string>

#include "libquant/core/error.hpp"

namespace libquant::cpu {

double littlebit_bpw(int64_t m, int64_t n, int64_t rank, int paths) noexcept {
  if (m <= 0 || n <= 0) return 0;
  const double bits = static_cast<double>(paths) *
                      (static_cast<double>(rank) * static_cast<double>(m + n + 16) + 16.0 * static_cast<double>(m + n));
  return bits / (static_cast<double>(m) * static_cast<double>(n));
}

void LittleBitFactors::validate() const {
  constexpr int64_t kMax = int64_t{1} << 40;
  bool ok = out > 0 && in > 0 && rank > 0 && out <= kMax && in <= kMax && rank <= std::min(out, in) && !paths.empty() &&
            out * in <= kMax;  // no product below overflows
  for (const auto& p : paths)
    ok = ok && p.u.rows() == out && p.u.cols() == rank && p.v.rows() == rank && p.v.cols() == in &&
         static_cast<int64_t>(p.h.size()) == out && static_cast<int64_t>(p.l.size()) == rank &&
         static_cast<int64_t>(p.g.size()) == in;
  check(ok, ErrorCode::ValidationFailed,
        "LittleBit factors of " + std::to_string(out) + " x " + std::to_string(in) + " at rank " +
            std::to_string(rank) + " hold signs or scales of other sizes");
}

std::vector<float> LittleBitFactors::reconstruct() const {
  std::vector<float> w(static_cast<size_t>(out * in));
  reconstruct_rows(0, out, w.data());
  return w;
}

void LittleBitFactors::reconstruct_rows(int64_t r0, int64_t n, float* dst) const {
  validate();
  check(r0 >= 0 && n >= 0 && r0 <= out && n <= out - r0, ErrorCode::InvalidArgument, "rows outside the factors");
  std::fill(dst, dst + n * in, 0.0f);
  std::vector<float> ul(static_cast<size_t>(n * rank)), vg(static_cast<size_t>(rank * in));
  for (const auto& p : paths) {
    // (diag(h) S_U diag(l)) (S_V diag(g)) for the wanted rows, accumulated.
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < rank; ++k) ul[i * rank + k] = p.h[r0 + i] * p.u.at(r0 + i, k) * p.l[k];
    for (int64_t k = 0; k < rank; ++k)
      for (int64_t j = 0; j < in; ++j) vg[k * in + j] = p.v.at(k, j) * p.g[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(n), static_cast<blasint>(in),
                static_cast<blasint>(rank), 1.0f, ul.data(), static_cast<blasint>(rank), vg.data(),
                static_cast<blasint>(in), 1.0f, dst, static_cast<blasint>(in));
  }
}

void LittleBitFactors::apply(const float* x, int64_t tokens, float* y, ThreadPool* pool) const {
  apply_with(x, tokens, y,
             [pool](const SignMatrixView& s, const float* a, int64_t t, float* b) { sign_gemm(s, a, t, b, pool); });
}

void LittleBitFactors::apply_with(const float* x, int64_t tokens, float* y, const SignGemmFn& sign_product) const {
  validate();
  check(tokens >= 0, ErrorCode::InvalidArgument, "negative token count");
  std::vector<float> a(static_cast<size_t>(tokens * in)), b(static_cast<size_t>(tokens * rank)),
      d(static_cast<size_t>(tokens * out));
  std::fill(y, y + tokens * out, 0.0f);
  for (const auto& p : paths) {
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t j = 0; j < in; ++j) a[t * in + j] = x[t * in + j] * p.g[j];
    sign_product(p.v.view(), a.data(), tokens, b.data());
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t k = 0; k < rank; ++k) b[t * rank + k] *= p.l[k];
    sign_product(p.u.view(), b.data(), tokens, d.data());
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t i = 0; i < out; ++i) y[t * out + i] += d[t * out + i] * p.h[i];
  }
}

}  // namespace libquant::cpu
