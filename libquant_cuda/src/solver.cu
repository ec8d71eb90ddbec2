// Dense factorizations on cuSOLVER: truncated SVD (exact gesvd, and the
// randomized range finder with the caller's sketch, mirroring libquant's CPU
// algorithm step for step), Cholesky (potrf) and symmetric eigen (syevd).
// Row-major host matrices are column-major transposes on the device.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "context.hpp"
#include "libquant/backend/cuda_plugin_abi.h"
#include "ops.hpp"

namespace lqcuda {
namespace {

template <class T>
__global__ void convert(const float* x, T* y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = static_cast<T>(x[i]);
}

template <class T>
DeviceBuffer<T> upload_as(const float* host, int64_t n) {
  DeviceBuffer<float> f(n);
  f.upload(host);
  DeviceBuffer<T> out(n);
  convert<T><<<static_cast<unsigned>((n + 255) / 256), 256, 0, ctx().stream>>>(f.get(), out.get(), n);
  check_cuda(cudaGetLastError(), "convert");
  check_cuda(cudaStreamSynchronize(ctx().stream), "synchronize");
  return out;
}

template <class T>
std::vector<T> fetch(const DeviceBuffer<T>& d) {
  std::vector<T> h(d.size());
  d.download(h.data());
  return h;
}

void check_info(const DeviceBuffer<int>& info, const char* what) {
  int v = 0;
  info.download(&v);
  if (v != 0) {
    set_error(std::string(what) + " reported info " + std::to_string(v));
    throw Failure{LQ_CUDA_NOT_CONVERGED};
  }
}

// Column-major gemm: C[m, n] = op(A) op(B).
template <class T>
void gemm_cm(bool ta, bool tb, int m, int n, int k, const T* a, int lda, const T* b, int ldb, T* c, int ldc) {
  const T one = 1, zero = 0;
  const auto oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  if constexpr (std::is_same_v<T, double>)
    check_blas(cublasDgemm(ctx().blas, oa, ob, m, n, k, &one, a, lda, b, ldb, &zero, c, ldc), "cublasDgemm");
  else
    check_blas(cublasSgemm(ctx().blas, oa, ob, m, n, k, &one, a, lda, b, ldb, &zero, c, ldc), "cublasSgemm");
}

// Column-major transpose: out[cols, rows] = in[rows, cols]^T.
template <class T>
void transpose_cm(const T* in, int rows, int cols, T* out) {
  const T one = 1, zero = 0;
  if constexpr (std::is_same_v<T, double>)
    check_blas(
        cublasDgeam(ctx().blas, CUBLAS_OP_T, CUBLAS_OP_N, cols, rows, &one, in, rows, &zero, out, cols, out, cols),
        "cublasDgeam");
  else
    check_blas(
        cublasSgeam(ctx().blas, CUBLAS_OP_T, CUBLAS_OP_N, cols, rows, &one, in, rows, &zero, out, cols, out, cols),
        "cublasSgeam");
}

// Thin SVD of column-major a[rows, cols] with rows >= cols (destroyed):
// u [rows, cols], s [cols], vt [cols, cols].
template <class T>
void gesvd_cm(T* a, int rows, int cols, T* s, T* u, T* vt) {
  int lwork = 0;
  if constexpr (std::is_same_v<T, double>)
    check_solver(cusolverDnDgesvd_bufferSize(ctx().solver, rows, cols, &lwork), "gesvd_bufferSize");
  else
    check_solver(cusolverDnSgesvd_bufferSize(ctx().solver, rows, cols, &lwork), "gesvd_bufferSize");
  DeviceBuffer<T> work(static_cast<size_t>(std::max(lwork, 1)));
  DeviceBuffer<int> info(1);
  if constexpr (std::is_same_v<T, double>)
    check_solver(cusolverDnDgesvd(ctx().solver, 'S', 'S', rows, cols, a, rows, s, u, rows, vt, cols, work.get(), lwork,
                                  nullptr, info.get()),
                 "cusolverDnDgesvd");
  else
    check_solver(cusolverDnSgesvd(ctx().solver, 'S', 'S', rows, cols, a, rows, s, u, rows, vt, cols, work.get(), lwork,
                                  nullptr, info.get()),
                 "cusolverDnSgesvd");
  check_info(info, "gesvd");
}

// Orthonormal basis of the columns of column-major a[rows, cols] in place (thin QR).
template <class T>
void orthonormalize_cm(T* a, int rows, int cols) {
  DeviceBuffer<T> tau(static_cast<size_t>(cols));
  DeviceBuffer<int> info(1);
  int lq = 0, lo = 0;
  if constexpr (std::is_same_v<T, double>) {
    check_solver(cusolverDnDgeqrf_bufferSize(ctx().solver, rows, cols, a, rows, &lq), "geqrf_bufferSize");
    check_solver(cusolverDnDorgqr_bufferSize(ctx().solver, rows, cols, cols, a, rows, tau.get(), &lo),
                 "orgqr_bufferSize");
  } else {
    check_solver(cusolverDnSgeqrf_bufferSize(ctx().solver, rows, cols, a, rows, &lq), "geqrf_bufferSize");
    check_solver(cusolverDnSorgqr_bufferSize(ctx().solver, rows, cols, cols, a, rows, tau.get(), &lo),
                 "orgqr_bufferSize");
  }
  const int lwork = std::max({lq, lo, 1});
  DeviceBuffer<T> work(static_cast<size_t>(lwork));
  if constexpr (std::is_same_v<T, double>) {
    check_solver(cusolverDnDgeqrf(ctx().solver, rows, cols, a, rows, tau.get(), work.get(), lwork, info.get()),
                 "geqrf");
    check_solver(cusolverDnDorgqr(ctx().solver, rows, cols, cols, a, rows, tau.get(), work.get(), lwork, info.get()),
                 "orgqr");
  } else {
    check_solver(cusolverDnSgeqrf(ctx().solver, rows, cols, a, rows, tau.get(), work.get(), lwork, info.get()),
                 "geqrf");
    check_solver(cusolverDnSorgqr(ctx().solver, rows, cols, cols, a, rows, tau.get(), work.get(), lwork, info.get()),
                 "orgqr");
  }
  check_info(info, "QR");
}

template <class T>
void svd_exact_t(const float* a, int m, int n, int k, float* u, float* s, float* v) {
  DeviceBuffer<T> at = upload_as<T>(a, static_cast<int64_t>(m) * n);  // column-major A^T [n, m]
  const int mn = std::min(m, n);
  DeviceBuffer<T> ds(mn);
  if (n >= m) {
    // A^T = U1 S V1^T, so A = V1 S U1^T: u = V1 (= VT1^T), v = U1.
    DeviceBuffer<T> du(static_cast<size_t>(n) * m), dvt(static_cast<size_t>(m) * m);
    gesvd_cm(at.get(), n, m, ds.get(), du.get(), dvt.get());
    const auto hu = fetch(du), hvt = fetch(dvt);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < k; ++j)
        u[static_cast<size_t>(i) * k + j] = static_cast<float>(hvt[j + static_cast<size_t>(i) * m]);
    for (int p = 0; p < n; ++p)
      for (int j = 0; j < k; ++j)
        v[static_cast<size_t>(p) * k + j] = static_cast<float>(hu[p + static_cast<size_t>(j) * n]);
  } else {
    DeviceBuffer<T> acm(static_cast<size_t>(m) * n), du(static_cast<size_t>(m) * n), dvt(static_cast<size_t>(n) * n);
    transpose_cm(at.get(), n, m, acm.get());  // column-major A [m, n]
    gesvd_cm(acm.get(), m, n, ds.get(), du.get(), dvt.get());
    const auto hu = fetch(du), hvt = fetch(dvt);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < k; ++j)
        u[static_cast<size_t>(i) * k + j] = static_cast<float>(hu[i + static_cast<size_t>(j) * m]);
    for (int p = 0; p < n; ++p)
      for (int j = 0; j < k; ++j)
        v[static_cast<size_t>(p) * k + j] = static_cast<float>(hvt[j + static_cast<size_t>(p) * n]);
  }
  const auto hs = fetch(ds);
  for (int j = 0; j < k; ++j) s[j] = static_cast<float>(hs[j]);
}

template <class T>
void svd_randomized_t(const float* a, int m, int n, int k, const double* omega, int kp, int power, float* u, float* s,
                      float* v) {
  DeviceBuffer<T> at = upload_as<T>(a, static_cast<int64_t>(m) * n);  // column-major A^T [n, m]
  std::vector<T> om(omega, omega + static_cast<size_t>(n) * kp);
  DeviceBuffer<T> dom(om.size()), y(static_cast<size_t>(m) * kp), z(static_cast<size_t>(n) * kp);
  dom.upload(om.data());
  gemm_cm<T>(true, false, m, kp, n, at.get(), n, dom.get(), n, y.get(), m);  // Y = A Omega
  orthonormalize_cm(y.get(), m, kp);
  for (int it = 0; it < power; ++it) {
    gemm_cm<T>(false, false, n, kp, m, at.get(), n, y.get(), m, z.get(), n);  // Z = A^T Q
    orthonormalize_cm(z.get(), n, kp);
    gemm_cm<T>(true, false, m, kp, n, at.get(), n, z.get(), n, y.get(), m);  // Y = A Z
    orthonormalize_cm(y.get(), m, kp);
  }
  DeviceBuffer<T> b(static_cast<size_t>(kp) * n), bt(static_cast<size_t>(n) * kp);
  gemm_cm<T>(true, true, kp, n, m, y.get(), m, at.get(), n, b.get(), kp);  // B = Q^T A [kp, n]
  transpose_cm(b.get(), kp, n, bt.get());                                  // B^T [n, kp], n >= kp
  DeviceBuffer<T> u2(static_cast<size_t>(n) * kp), vt2(static_cast<size_t>(kp) * kp), ds(kp),
      ub(static_cast<size_t>(kp) * kp);
  gesvd_cm(bt.get(), n, kp, ds.get(), u2.get(), vt2.get());  // B^T = U2 S V2^T: B = V2 S U2^T
  transpose_cm(vt2.get(), kp, kp, ub.get());                 // Ub = V2
  DeviceBuffer<T> uq(static_cast<size_t>(m) * kp);
  gemm_cm<T>(false, false, m, kp, kp, y.get(), m, ub.get(), kp, uq.get(), m);  // U = Q Ub
  const auto hu = fetch(uq), hv = fetch(u2), hs = fetch(ds);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < k; ++j)
      u[static_cast<size_t>(i) * k + j] = static_cast<float>(hu[i + static_cast<size_t>(j) * m]);
  for (int p = 0; p < n; ++p)
    for (int j = 0; j < k; ++j)
      v[static_cast<size_t>(p) * k + j] = static_cast<float>(hv[p + static_cast<size_t>(j) * n]);
  for (int j = 0; j < k; ++j) s[j] = static_cast<float>(hs[j]);
}

}  // namespace

int svd_exact(const float* a, int64_t m, int64_t n, int64_t k, int f64, float* u, float* s, float* v) {
  return guarded([&] {
    const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
    if (f64)
      svd_exact_t<double>(a, mi, ni, ki, u, s, v);
    else
      svd_exact_t<float>(a, mi, ni, ki, u, s, v);
    return 0;
  });
}

int svd_randomized(const float* a, int64_t m, int64_t n, int64_t k, const double* omega, int64_t kp,
                   int power_iterations, int f64, float* u, float* s, float* v) {
  if (kp > n) return LQ_CUDA_UNSUPPORTED;  // the small SVD needs n >= kp
  return guarded([&] {
    const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k), kpi = static_cast<int>(kp);
    if (f64)
      svd_randomized_t<double>(a, mi, ni, ki, omega, kpi, power_iterations, u, s, v);
    else
      svd_randomized_t<float>(a, mi, ni, ki, omega, kpi, power_iterations, u, s, v);
    return 0;
  });
}

int cholesky(double* a, int64_t n) {
  return guarded([&] {
    const int ni = static_cast<int>(n);
    DeviceBuffer<double> da(static_cast<size_t>(n * n));
    DeviceBuffer<int> info(1);
    da.upload(a);
    // Row-major a is column-major a^T = a; the column-major upper factor U is the row-major lower L.
    int lwork = 0;
    check_solver(cusolverDnDpotrf_bufferSize(ctx().solver, CUBLAS_FILL_MODE_UPPER, ni, da.get(), ni, &lwork),
                 "potrf_bufferSize");
    DeviceBuffer<double> work(static_cast<size_t>(std::max(lwork, 1)));
    check_solver(
        cusolverDnDpotrf(ctx().solver, CUBLAS_FILL_MODE_UPPER, ni, da.get(), ni, work.get(), lwork, info.get()),
        "potrf");
    check_info(info, "potrf");
    da.download(a);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = 0.0;
    return 0;
  });
}

int symmetric_eigen(double* a, int64_t n, double* w) {
  return guarded([&] {
    const int ni = static_cast<int>(n);
    DeviceBuffer<double> da(static_cast<size_t>(n * n)), dw(static_cast<size_t>(n));
    DeviceBuffer<int> info(1);
    da.upload(a);
    int lwork = 0;
    check_solver(cusolverDnDsyevd_bufferSize(ctx().solver, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, ni,
                                             da.get(), ni, dw.get(), &lwork),
                 "syevd_bufferSize");
    DeviceBuffer<double> work(static_cast<size_t>(std::max(lwork, 1)));
    check_solver(cusolverDnDsyevd(ctx().solver, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, ni, da.get(), ni,
                                  dw.get(), work.get(), lwork, info.get()),
                 "syevd");
    check_info(info, "syevd");
    da.download(a);  // column-major eigenvector columns = row-major rows
    dw.download(w);
    return 0;
  });
}

}  // namespace lqcuda
