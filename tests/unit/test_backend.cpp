// Every backend against independent references: naive double-precision loops
// for the products, known spectra for the SVD, A = L L^T and A v = lambda v for
// the factorizations, the scalar sign-GEMM and libquant's CPU Q8_0 encoder.
// The CUDA backend runs the same checks when the plugin and a GPU are present
// (the runner's --cuda-plugin or the build tree's libquant_cuda/); otherwise it
// is reported as skipped, or fails under LIBQUANT_REQUIRE_GPU=1. `--backend
// cpu|cuda` runs one backend only (CTest's gpu.backend: cuda). Tolerances (relative to the result's norm):
//   f32 GEMM 1e-5 CPU / 1e-4 GPU; 16-bit GEMM 1e-5; int8 GEMM and Q8_0: exact;
//   X^T X 1e-12; SVD singular values 1e-4 (f32) with reconstruction 1e-3;
//   Cholesky / eigen residuals 1e-10; packed signs 1e-5.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <string>
#include <random>
#include <vector>

#include "libquant/backend/backend.hpp"
#include "libquant/cpu/sign_matrix.hpp"
#include "libquant/cpu/truncated_svd.hpp"
#include "libquant/core/half.hpp"
#include "libquant/cpu/int8_gemm.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "backend_selection.hpp"
#include "random_matrices.hpp"

using namespace libquant;

namespace {

using test::randn;

// The backends of this run (--backend all|cpu|cuda). A CUDA backend that
// cannot be used is a skip (the message CTest's gpu.backend looks for), or a
// failure with LIBQUANT_REQUIRE_GPU=1 (GPU machines: no silent CPU-only pass).
std::vector<backend::Backend*> backends_under_test() {
  const std::string& selection = test::backend_selection();
  std::vector<backend::Backend*> out;
  if (selection != "cuda") out.push_back(&backend::cpu_backend());
  if (selection == "cpu") return out;
  const std::string why = backend::cuda_unavailable_reason();
  if (why.empty()) {
    out.push_back(&backend::use_device(backend::Device::Cuda));
    backend::use_device(backend::Device::Cpu);
  } else if (const char* req = std::getenv("LIBQUANT_REQUIRE_GPU"); req && std::string(req) == "1") {
    FAIL("LIBQUANT_REQUIRE_GPU=1 but the CUDA backend cannot be used: " << why);
  } else {
    WARN("CUDA backend SKIPPED: " << why);
  }
  return out;
}

double rel_err(const std::vector<double>& ref, const float* got, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (ref[i] - got[i]) * (ref[i] - got[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

}  // namespace

TEST_CASE("backend f32 GEMM: every transpose, padded leading dimensions", "[backend]") {
  const int64_t M = 37, N = 29, K = 45;
  for (auto* be : backends_under_test())
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 7;
        auto a = randn(static_cast<size_t>((ta ? K : M) * lda), 1),
             b = randn(static_cast<size_t>((tb ? N : K) * ldb), 2);
        auto c = randn(static_cast<size_t>(M * ldc), 3);
        const auto c0 = c;
        const float alpha = 0.75f, beta = -0.5f;
        std::vector<double> ref(static_cast<size_t>(M * N));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double s = 0;
            for (int64_t k = 0; k < K; ++k)
              s += double(ta ? a[k * lda + i] : a[i * lda + k]) * (tb ? b[j * ldb + k] : b[k * ldb + j]);
            ref[i * N + j] = alpha * s + beta * c0[i * ldc + j];
          }
        be->gemm_f32(ta, tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        std::vector<float> got(static_cast<size_t>(M * N));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) got[i * N + j] = c[i * ldc + j];
        INFO(be->name() << " ta=" << ta << " tb=" << tb);
        CHECK(rel_err(ref, got.data(), got.size()) < (be->is_gpu() ? 1e-4 : 1e-5));
        bool gaps_kept = true;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = N; j < ldc; ++j) gaps_kept &= c[i * ldc + j] == c0[i * ldc + j];
        CHECK(gaps_kept);
      }
}

TEST_CASE("backend 16-bit GEMM accumulates in f32", "[backend]") {
  const int64_t M = 19, N = 23, K = 130;
  const auto af = randn(static_cast<size_t>(M * K), 4), bf = randn(static_cast<size_t>(N * K), 5);
  for (auto* be : backends_under_test())
    for (auto type : {backend::HalfType::F16, backend::HalfType::BF16}) {
      std::vector<uint16_t> a(af.size()), b(bf.size());
      for (size_t i = 0; i < a.size(); ++i)
        a[i] = type == backend::HalfType::F16 ? f32_to_f16(af[i]) : f32_to_bf16(af[i]);
      for (size_t i = 0; i < b.size(); ++i)
        b[i] = type == backend::HalfType::F16 ? f32_to_f16(bf[i]) : f32_to_bf16(bf[i]);
      const auto wide = [&](uint16_t v) { return type == backend::HalfType::F16 ? f16_to_f32(v) : bf16_to_f32(v); };
      std::vector<double> ref(static_cast<size_t>(M * N));
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j)
          for (int64_t k = 0; k < K; ++k) ref[i * N + j] += double(wide(a[i * K + k])) * wide(b[j * K + k]);
      std::vector<float> c(ref.size());
      be->gemm_half_nt(type, M, N, K, a.data(), b.data(), c.data());
      INFO(be->name());
      CHECK(rel_err(ref, c.data(), c.size()) < 1e-5);
    }
}

TEST_CASE("backend int8 GEMM is exact", "[backend]") {
  const int64_t M = 33, N = 17, K = 96;
  std::mt19937 rng(6);
  std::vector<int8_t> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(N * K));
  for (auto& v : a) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  for (auto& v : b) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  std::vector<int32_t> ref(static_cast<size_t>(M * N)), got(ref.size());
  cpu::gemm_s8s8s32_reference(a.data(), b.data(), ref.data(), M, N, K);
  for (auto* be : backends_under_test()) {
    be->gemm_i8_nt(M, N, K, a.data(), b.data(), got.data());
    INFO(be->name());
    CHECK(got == ref);
  }
}

TEST_CASE("backend X^T X accumulates in f64 into both triangles", "[backend]") {
  const int64_t rows = 57, n = 21;
  const auto x = randn(static_cast<size_t>(rows * n), 7);
  for (auto* be : backends_under_test()) {
    std::vector<double> h(static_cast<size_t>(n * n));
    for (int64_t i = 0; i < n; ++i) h[i * n + i] = 2.0;  // accumulates onto what is there
    be->accumulate_xtx(x.data(), rows, n, h.data());
    double worst = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = i == j ? 2.0 : 0.0;
        for (int64_t r = 0; r < rows; ++r) s += double(x[r * n + i]) * x[r * n + j];
        worst = std::max(worst, std::abs(s - h[i * n + j]) / std::max(1.0, std::abs(s)));
      }
    INFO(be->name());
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("backend truncated SVD recovers a known spectrum", "[backend]") {
  // A = Q1 diag(s) Q2^T with orthonormal Q1, Q2.
  const int64_t m = 90, n = 70, r = 12;
  const auto q1 = test::orthonormal_columns(m, r, 8), q2 = test::orthonormal_columns(n, r, 9);
  std::vector<double> s(static_cast<size_t>(r));
  for (int64_t j = 0; j < r; ++j) s[j] = 10.0 * std::pow(0.7, static_cast<double>(j));
  std::vector<float> a(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < n; ++p) {
      double v = 0;
      for (int64_t j = 0; j < r; ++j) v += q1[i * r + j] * s[j] * q2[p * r + j];
      a[i * n + p] = static_cast<float>(v);
    }
  for (auto* be : backends_under_test())
    for (auto method : {cpu::SvdMethod::Exact, cpu::SvdMethod::Randomized})
      for (bool f64 : {true, false}) {
        cpu::SvdOptions o;
        o.method = method;
        o.double_precision = f64;
        const int64_t k = 8;
        const auto svd = be->truncated_svd(a.data(), m, n, k, o);
        INFO(be->name() << (method == cpu::SvdMethod::Exact ? " exact" : " randomized") << (f64 ? " f64" : " f32"));
        for (int64_t j = 0; j < k; ++j) CHECK(svd.s[j] == Approx(s[j]).epsilon(1e-4));
        // The rank-k reconstruction equals the rank-k part of A.
        std::vector<double> ref(a.size());
        std::vector<float> got(a.size());
        for (int64_t i = 0; i < m; ++i)
          for (int64_t p = 0; p < n; ++p) {
            double rv = 0, gv = 0;
            for (int64_t j = 0; j < k; ++j) {
              rv += q1[i * r + j] * s[j] * q2[p * r + j];
              gv += double(svd.u[i * k + j]) * svd.s[j] * svd.v[p * k + j];
            }
            ref[i * n + p] = rv;
            got[i * n + p] = static_cast<float>(gv);
          }
        CHECK(rel_err(ref, got.data(), got.size()) < 1e-3);
      }
}

TEST_CASE("backend Cholesky and symmetric eigen-decomposition", "[backend]") {
  const int64_t n = 24;
  const auto x = randn(static_cast<size_t>(3 * n * n), 10);
  std::vector<double> spd(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t r = 0; r < 3 * n; ++r) spd[i * n + j] += double(x[r * n + i]) * x[r * n + j];
  for (auto* be : backends_under_test()) {
    INFO(be->name());
    auto l = spd;
    REQUIRE(be->cholesky(l.data(), n));
    double worst = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        if (j > i) CHECK(l[i * n + j] == 0.0);
        double s = 0;
        for (int64_t p = 0; p < n; ++p) s += l[i * n + p] * l[j * n + p];
        worst = std::max(worst, std::abs(s - spd[i * n + j]) / std::abs(spd[i * n + i]));
      }
    CHECK(worst < 1e-10);
    auto bad = spd;
    bad[0] = -1.0;
    CHECK_FALSE(be->cholesky(bad.data(), n));

    auto vecs = spd;
    std::vector<double> w(static_cast<size_t>(n));
    REQUIRE(be->symmetric_eigen(vecs.data(), n, w.data()));
    for (int64_t e = 0; e < n; ++e) {
      if (e) CHECK(w[e] >= w[e - 1]);
      double res = 0;
      for (int64_t i = 0; i < n; ++i) {
        double av = 0;
        for (int64_t j = 0; j < n; ++j) av += spd[i * n + j] * vecs[e * n + j];
        res = std::max(res, std::abs(av - w[e] * vecs[e * n + i]));
      }
      CHECK(res < 1e-10 * std::abs(w[n - 1]));
    }
  }
}

TEST_CASE("backend packed-sign GEMM equals the scalar reference", "[backend]") {
  const int64_t rows = 45, cols = 200, tokens = 3;
  cpu::PackedSigns s(rows, cols);
  std::mt19937 rng(11);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) s.set(i, j, (rng() & 1) != 0);
  const auto x = randn(static_cast<size_t>(tokens * cols), 12);
  std::vector<float> ref(static_cast<size_t>(tokens * rows)), got(ref.size());
  cpu::sign_gemm_reference(s.view(), x.data(), tokens, ref.data());
  const std::vector<double> refd(ref.begin(), ref.end());
  for (auto* be : backends_under_test()) {
    be->sign_gemm(s.view(), x.data(), tokens, got.data());
    INFO(be->name());
    CHECK(rel_err(refd, got.data(), got.size()) < 1e-5);
  }
}

TEST_CASE("backend Q8_0 rows are bit-identical to the CPU encoder", "[backend]") {
  const int64_t rows = 7, cols = 256;
  auto x = randn(static_cast<size_t>(rows * cols), 13);
  for (int64_t j = 0; j < 32; ++j) x[j] = 0.0f;  // an all-zero block
  x[40] = 1e-30f;                                // a tiny scale
  const size_t bytes = static_cast<size_t>(rows * cols / 32 * 34);
  std::vector<uint8_t> ref(bytes), got(bytes);
  gguf::quantize_rows(DType::Q8_0, x.data(), ref.data(), rows, cols);
  for (auto* be : backends_under_test()) {
    REQUIRE(be->quantize_rows(DType::Q8_0, x.data(), got.data(), rows, cols, nullptr));
    INFO(be->name());
    CHECK(got == ref);
  }
}
