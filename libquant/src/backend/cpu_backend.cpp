// The CPU backend: OpenBLAS, LAPACK and libquant's own kernels. These are the
// code paths the library used before the backend interface existed, so the
// CPU results are the reference the other backends are tested against.
#include "libquant/backend/backend.hpp"

#include <cblas.h>

#include <vector>

#include "libquant/core/half.hpp"
#include "libquant/cpu/int8_gemm.hpp"
#include "libquant/cpu/sign_matrix.hpp"
#include "libquant/cpu/truncated_svd.hpp"
#include "libquant/gguf/row_codec.hpp"

extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace libquant::backend {
namespace {

blasint bi(int64_t v) { return static_cast<blasint>(v); }

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu (OpenBLAS)"; }
  bool is_gpu() const noexcept override { return false; }

  void gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc) override {
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, bi(M), bi(N), bi(K),
                alpha, a, bi(lda), b, bi(ldb), beta, c, bi(ldc));
  }

  void gemm_half_nt(HalfType type, int64_t M, int64_t N, int64_t K, const uint16_t* a, const uint16_t* b,
                    float* c) override {
    // Every 16-bit value is exact in f32 and products of two are exact too, so
    // an f32 GEMM on widened inputs is the f32-accumulation reference.
    std::vector<float> af(static_cast<size_t>(M * K)), bf(static_cast<size_t>(N * K));
    const auto widen = type == HalfType::F16
                           ? static_cast<void (*)(const uint16_t*, float*, size_t) noexcept>(f16_to_f32)
                           : static_cast<void (*)(const uint16_t*, float*, size_t) noexcept>(bf16_to_f32);
    widen(a, af.data(), af.size());
    widen(b, bf.data(), bf.size());
    gemm_f32(false, true, M, N, K, 1.0f, af.data(), K, bf.data(), K, 0.0f, c, N);
  }

  void gemm_i8_nt(int64_t M, int64_t N, int64_t K, const int8_t* a, const int8_t* b, int32_t* c) override {
    cpu::gemm_s8s8s32(a, b, c, M, N, K);
  }

  void accumulate_xtx(const float* x, int64_t rows, int64_t n, double* h) override {
    std::vector<double> xd(x, x + rows * n);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, bi(n), bi(rows), 1.0, xd.data(), bi(n), 1.0, h, bi(n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j) h[i * n + j] = h[j * n + i];
  }

  TruncatedSvd truncated_svd(const float* a, int64_t m, int64_t n, int64_t k, const SvdOptions& o) override {
    return cpu::truncated_svd(a, m, n, k, o);
  }

  bool cholesky(double* a, int64_t n) override {
    // Row-major a is column-major a^T = a; LAPACK's upper factor U (a = U^T U)
    // read row-major is the lower factor L = U^T.
    const int ni = static_cast<int>(n);
    int info = 0;
    dpotrf_("U", &ni, a, &ni, &info);
    if (info != 0) return false;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = 0.0;
    return true;
  }

  bool symmetric_eigen(double* a, int64_t n, double* w) override {
    // Column-major eigenvectors (columns) are row-major rows.
    const int ni = static_cast<int>(n);
    int info = 0, lwork = -1, liwork = -1, iw = 0;
    double wq = 0;
    dsyevd_("V", "U", &ni, a, &ni, w, &wq, &lwork, &iw, &liwork, &info);
    lwork = static_cast<int>(wq);
    liwork = iw;
    std::vector<double> work(static_cast<size_t>(lwork));
    std::vector<int> iwork(static_cast<size_t>(liwork));
    dsyevd_("V", "U", &ni, a, &ni, w, work.data(), &lwork, iwork.data(), &liwork, &info);
    return info == 0;
  }

  void sign_gemm(const SignMatrixView& s, const float* x, int64_t tokens, float* y) override {
    cpu::sign_gemm(s, x, tokens, y);
  }

  bool quantize_rows(DType t, const float* src, void* dst, int64_t rows, int64_t cols, const float* imp) override {
    gguf::quantize_rows(t, src, dst, rows, cols, imp);
    return true;
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend cpu;
  return cpu;
}

}  // namespace libquant::backend
