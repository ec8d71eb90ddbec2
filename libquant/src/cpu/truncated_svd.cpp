#include "libquant/cpu/truncated_svd.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "libquant/core/error.hpp"

extern "C" {
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu,
             float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
             const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info);
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork,
             int* info);
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork,
             int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
             const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work,
             const int* lwork, int* info);
}

namespace libquant::cpu {
namespace {

// Thin typed wrappers so one algorithm serves f32 and f64.
inline void gesdd(int m, int n, float* a, float* s, float* u, float* vt, float* w, int lw, int* iw, int* info) {
  const char j = 'S';
  const int mn = std::min(m, n);
  sgesdd_(&j, &m, &n, a, &m, s, u, &m, vt, &mn, w, &lw, iw, info);
}
inline void gesdd(int m, int n, double* a, double* s, double* u, double* vt, double* w, int lw, int* iw, int* info) {
  const char j = 'S';
  const int mn = std::min(m, n);
  dgesdd_(&j, &m, &n, a, &m, s, u, &m, vt, &mn, w, &lw, iw, info);
}
inline void geqrf(int m, int n, float* a, float* tau, float* w, int lw, int* info) {
  sgeqrf_(&m, &n, a, &m, tau, w, &lw, info);
}
inline void geqrf(int m, int n, double* a, double* tau, double* w, int lw, int* info) {
  dgeqrf_(&m, &n, a, &m, tau, w, &lw, info);
}
inline void orgqr(int m, int n, float* a, const float* tau, float* w, int lw, int* info) {
  sorgqr_(&m, &n, &n, a, &m, tau, w, &lw, info);
}
inline void orgqr(int m, int n, double* a, const double* tau, double* w, int lw, int* info) {
  dorgqr_(&m, &n, &n, a, &m, tau, w, &lw, info);
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* a, int lda, const float* b,
                 int ldb, float* c, int ldc) {
  cblas_sgemm(CblasColMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const double* a, int lda, const double* b,
                 int ldb, double* c, int ldc) {
  cblas_dgemm(CblasColMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

void lapack_check(int info, const char* what) {
  if (info != 0)
    throw Error(ErrorCode::FactorizationFailed,
                std::string(what) + " failed (LAPACK info " + std::to_string(info) + ")",
                "Check the weights for NaN/Inf values, or compute the SVD in float64");
}

// SVD of a column-major rows x cols matrix (destroyed): U [rows, mn] and
// V^T [mn, cols], both column-major, mn = min(rows, cols).
template <typename T>
void svd_colmajor(std::vector<T>& a, int rows, int cols, std::vector<T>& u, std::vector<T>& s, std::vector<T>& vt) {
  const int mn = std::min(rows, cols);
  u.resize(static_cast<size_t>(rows) * mn);
  s.resize(static_cast<size_t>(mn));
  vt.resize(static_cast<size_t>(mn) * cols);
  std::vector<int> iw(static_cast<size_t>(8) * mn);
  T q = 0;
  int info = 0;
  gesdd(rows, cols, a.data(), s.data(), u.data(), vt.data(), &q, -1, iw.data(), &info);
  lapack_check(info, "SVD workspace query");
  std::vector<T> w(static_cast<size_t>(q) + 1);
  gesdd(rows, cols, a.data(), s.data(), u.data(), vt.data(), w.data(), static_cast<int>(w.size()), iw.data(), &info);
  lapack_check(info, "SVD");
}

// Q of the thin QR of a column-major rows x cols matrix, in place.
template <typename T>
void orthonormalize(std::vector<T>& a, int rows, int cols) {
  std::vector<T> tau(static_cast<size_t>(cols));
  T q = 0;
  int info = 0;
  geqrf(rows, cols, a.data(), tau.data(), &q, -1, &info);
  std::vector<T> w(static_cast<size_t>(q) + 1);
  geqrf(rows, cols, a.data(), tau.data(), w.data(), static_cast<int>(w.size()), &info);
  lapack_check(info, "QR");
  orgqr(rows, cols, a.data(), tau.data(), &q, -1, &info);
  w.resize(std::max(w.size(), static_cast<size_t>(q) + 1));
  orgqr(rows, cols, a.data(), tau.data(), w.data(), static_cast<int>(w.size()), &info);
  lapack_check(info, "QR");
}

// Standard normal values from a seeded 64-bit Mersenne Twister through
// Box-Muller (std::normal_distribution differs between standard libraries).
template <typename T>
void gaussian(std::vector<T>& out, uint64_t seed) {
  std::mt19937_64 rng(seed);
  constexpr double kTwoPi = 6.283185307179586;
  const auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0); };
  for (size_t i = 0; i < out.size(); i += 2) {
    const double r = std::sqrt(-2.0 * std::log(uniform())), th = kTwoPi * uniform();
    out[i] = static_cast<T>(r * std::cos(th));
    if (i + 1 < out.size()) out[i + 1] = static_cast<T>(r * std::sin(th));
  }
}

template <typename T>
TruncatedSvd svd_typed(const float* a, int m, int n, int k, const SvdOptions& o, bool randomized) {
  // Row-major a[m, n] is column-major At [n, m].
  std::vector<T> at(a, a + static_cast<size_t>(m) * n);
  TruncatedSvd r{m, n, k, {}, {}, {}};
  r.u.resize(static_cast<size_t>(m) * k);
  r.s.resize(static_cast<size_t>(k));
  r.v.resize(static_cast<size_t>(n) * k);
  std::vector<T> u, s, vt;
  if (!randomized) {
    // SVD(At) = V S U^T: its "U" is V [n, mn] and its "V^T" is U^T [mn, m] (column-major).
    const int mn = std::min(m, n);
    svd_colmajor(at, n, m, u, s, vt);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < k; ++j)
        r.u[static_cast<size_t>(i) * k + j] = static_cast<float>(vt[j + static_cast<size_t>(i) * mn]);
    for (int p = 0; p < n; ++p)
      for (int j = 0; j < k; ++j)
        r.v[static_cast<size_t>(p) * k + j] = static_cast<float>(u[p + static_cast<size_t>(j) * n]);
  } else {
    const int kp = std::min(k + o.oversample, std::min(m, n));
    std::vector<T> omega(static_cast<size_t>(n) * kp), y(static_cast<size_t>(m) * kp), z(static_cast<size_t>(n) * kp);
    gaussian(omega, o.seed);
    gemm(CblasTrans, CblasNoTrans, m, kp, n, at.data(), n, omega.data(), n, y.data(), m);  // Y = A Omega
    orthonormalize(y, m, kp);
    for (int it = 0; it < o.power_iterations; ++it) {
      gemm(CblasNoTrans, CblasNoTrans, n, kp, m, at.data(), n, y.data(), m, z.data(), n);  // Z = A^T Q
      orthonormalize(z, n, kp);
      gemm(CblasTrans, CblasNoTrans, m, kp, n, at.data(), n, z.data(), n, y.data(), m);  // Y = A Z
      orthonormalize(y, m, kp);
    }
    std::vector<T> b(static_cast<size_t>(kp) * n);
    gemm(CblasTrans, CblasTrans, kp, n, m, y.data(), m, at.data(), n, b.data(), kp);  // B = Q^T A
    svd_colmajor(b, kp, n, u, s, vt);  // B = Ub S Vb^T, Ub [kp, kp], Vb^T [kp, n]
    std::vector<T> uq(static_cast<size_t>(m) * kp);
    gemm(CblasNoTrans, CblasNoTrans, m, kp, kp, y.data(), m, u.data(), kp, uq.data(), m);  // U = Q Ub
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < k; ++j)
        r.u[static_cast<size_t>(i) * k + j] = static_cast<float>(uq[i + static_cast<size_t>(j) * m]);
    for (int p = 0; p < n; ++p)
      for (int j = 0; j < k; ++j)
        r.v[static_cast<size_t>(p) * k + j] = static_cast<float>(vt[j + static_cast<size_t>(p) * kp]);
  }
  for (int j = 0; j < k; ++j) r.s[static_cast<size_t>(j)] = static_cast<float>(s[static_cast<size_t>(j)]);
  return r;
}

}  // namespace

SvdMethod resolve_svd_method(int64_t m, int64_t n, int64_t k, SvdMethod requested) noexcept {
  if (requested != SvdMethod::Auto) return requested;
  const int64_t mn = std::min(m, n);
  return mn > 1024 && 2 * (k + 16) < mn ? SvdMethod::Randomized : SvdMethod::Exact;
}

void validate_svd_input(const float* a, int64_t m, int64_t n, int64_t k) {
  check(m > 0 && n > 0 && k > 0 && k <= std::min(m, n), ErrorCode::InvalidArgument,
        "truncated SVD: rank " + std::to_string(k) + " is not within 1.." + std::to_string(std::min(m, n)));
  check(m < (int64_t{1} << 31) / std::max<int64_t>(n, 1), ErrorCode::InvalidArgument,
        "truncated SVD: matrix too large");
  for (int64_t i = 0; i < m * n; ++i)
    if (!std::isfinite(a[i]))
      throw Error(ErrorCode::FactorizationFailed,
                  "matrix holds a non-finite value (at row " + std::to_string(i / n) + ")",
                  "Check the model weights for NaN/Inf values");
}

void svd_gaussian_sketch(double* out, size_t count, uint64_t seed) {
  std::vector<double> v(count);
  gaussian(v, seed);
  std::copy(v.begin(), v.end(), out);
}

TruncatedSvd truncated_svd(const float* a, int64_t m, int64_t n, int64_t k, const SvdOptions& opts) {
  validate_svd_input(a, m, n, k);
  const bool randomized = resolve_svd_method(m, n, k, opts.method) == SvdMethod::Randomized;
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  return opts.double_precision ? svd_typed<double>(a, mi, ni, ki, opts, randomized)
                               : svd_typed<float>(a, mi, ni, ki, opts, randomized);
}

}  // namespace libquant::cpu
