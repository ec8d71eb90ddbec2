// LittleBit: the paper's BPW accounting against the official code's worked
// ranks, packed-sign products against a plain float product, truncated SVD
// against known spectra, and Dual-SVID factors against their dense product.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/cpu/sign_matrix.hpp"
#include "libquant/cpu/truncated_svd.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/methods/littlebit_refine.hpp"
#include "random_matrices.hpp"

using namespace libquant;
using namespace libquant::methods;

namespace {

using test::randn;

// A matrix with a decaying spectrum, like trained weights: sum_k s_k a_k b_k^T.
std::vector<float> decaying_matrix(int64_t m, int64_t n, uint32_t seed) {
  const auto a = randn(static_cast<size_t>(m * n), seed, 0.02f);
  std::vector<float> w(a);
  const int64_t k = std::min<int64_t>(m, n) / 4;
  const auto l = randn(static_cast<size_t>(m * k), seed + 1), r = randn(static_cast<size_t>(k * n), seed + 2);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t q = 0; q < k; ++q) {
      const float s = 0.5f * std::exp(-0.05f * static_cast<float>(q)) / std::sqrt(static_cast<float>(n));
      for (int64_t j = 0; j < n; ++j) w[i * n + j] += s * l[i * k + q] * r[q * n + j];
    }
  return w;
}
}  // namespace

TEST_CASE("LittleBit ranks and BPW match the official code's worked numbers", "[littlebit]") {
  // ../shared/research/littlebit.md section 3 (computed with the official rank logic).
  CHECK(littlebit_rank_for_bpw(4096, 4096, 0.1, 1) == 184);
  CHECK(littlebit_rank_for_bpw(4096, 4096, 0.1, 2) == 80);
  CHECK(littlebit_rank_for_bpw(4096, 4096, 1.0, 1) == 2024);
  CHECK(littlebit_rank_for_bpw(4096, 4096, 1.0, 2) == 1000);
  CHECK(littlebit_rank_for_bpw(11008, 4096, 0.1, 1) == 280);
  CHECK(littlebit_rank_for_bpw(11008, 4096, 0.1, 2) == 128);
  CHECK(littlebit_rank_for_bpw(11008, 4096, 1.0, 1) == 2960);
  CHECK(littlebit_rank_for_bpw(11008, 4096, 1.0, 2) == 1472);
  CHECK(littlebit_rank_for_bpw(4096, 11008, 1.0, 2) == 1472);  // symmetric in m and n
  CHECK(littlebit_rank_for_bpw(4096, 4096, 0.3, 2) == 288);
  CHECK(littlebit_rank_for_bpw(11008, 4096, 0.55, 2) == 800);
  CHECK(littlebit_rank_for_bpw(28672, 8192, 0.1, 1) == 616);
  CHECK(littlebit_rank_for_bpw(28672, 8192, 0.1, 2) == 296);
  CHECK(littlebit_rank_for_bpw(64, 64, 0.1, 2) == kLittleBitMinRank);  // negative estimate -> minimum
  CHECK(littlebit_bpw(4096, 4096, 184, 1) == Approx(0.0978).margin(5e-5));
  CHECK(littlebit_bpw(4096, 4096, 80, 2) == Approx(0.0939).margin(5e-5));
  CHECK(littlebit_bpw(11008, 4096, 128, 2) == Approx(0.0966).margin(5e-5));
  CHECK(littlebit_bpw(11008, 4096, 1472, 2) == Approx(0.9980).margin(5e-5));
}

TEST_CASE("packed signs: layout, sign(0) = +1, and every product path equals the float product", "[littlebit]") {
  const std::vector<float> x = {0.0f, -1.0f, 2.0f, -0.0f, -3.0f};
  const auto s = cpu::PackedSigns::from_values(x.data(), 1, 5);
  CHECK(s.words_per_row() == 1);
  CHECK(s.data()[0] == 0b10010u);  // bits 1 and 4 set (-1), zeros (both signs) are +1
  CHECK(s.at(0, 0) == 1.0f);
  CHECK(s.at(0, 3) == 1.0f);

  for (const int64_t rows : {1, 7, 70}) {
    for (const int64_t cols : {5, 64, 77, 300}) {
      const auto vals = randn(static_cast<size_t>(rows * cols), static_cast<uint32_t>(rows * 1000 + cols));
      const auto sm = cpu::PackedSigns::from_values(vals.data(), rows, cols);
      for (const int64_t tokens : {1, 3, 4, 9, 20}) {
        const auto in = randn(static_cast<size_t>(tokens * cols), 7u + static_cast<uint32_t>(tokens));
        // Independent expectation: the dense +-1 matrix from the values' signs, double sums.
        std::vector<double> want(static_cast<size_t>(tokens * rows));
        for (int64_t t = 0; t < tokens; ++t)
          for (int64_t r = 0; r < rows; ++r) {
            double acc = 0;
            for (int64_t c = 0; c < cols; ++c) acc += (vals[r * cols + c] < 0 ? -1.0 : 1.0) * in[t * cols + c];
            want[t * rows + r] = acc;
          }
        for (auto p : {cpu::SignGemmPath::Scalar, cpu::SignGemmPath::Avx2, cpu::SignGemmPath::UnpackBlas}) {
          if (!cpu::sign_gemm_path_supported(p)) continue;
          std::vector<float> y(static_cast<size_t>(tokens * rows), 1e9f);
          cpu::sign_gemm_on(p, sm.view(), in.data(), tokens, y.data());
          for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-4 * std::sqrt(double(cols))));
        }
        ThreadPool pool(2);
        std::vector<float> y(static_cast<size_t>(tokens * rows));
        cpu::sign_gemm(sm.view(), in.data(), tokens, y.data(), &pool);
        for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-4 * std::sqrt(double(cols))));
      }
    }
  }
}

TEST_CASE("truncated SVD recovers a known spectrum, exact and randomized", "[littlebit]") {
  // A = Q1 diag(s) Q2^T with orthonormal Q1, Q2 (from Gram-Schmidt) and s = 10, 9, ..., 1.
  const int64_t m = 60, n = 40, k = 10;
  const auto q1 = test::orthonormal_columns(m, k, 1), q2 = test::orthonormal_columns(n, k, 2);
  std::vector<float> a(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) a[i * n + j] += static_cast<float>(10 - p) * q1[i * k + p] * q2[j * k + p];
  for (auto method : {cpu::SvdMethod::Exact, cpu::SvdMethod::Randomized}) {
    for (bool dbl : {true, false}) {
      cpu::SvdOptions o;
      o.method = method;
      o.double_precision = dbl;
      const auto svd = cpu::truncated_svd(a.data(), m, n, 4, o);
      for (int p = 0; p < 4; ++p) CHECK(svd.s[p] == Approx(10 - p).epsilon(1e-4));
      // u_p^T A v_p = s_p
      for (int p = 0; p < 4; ++p) {
        double d = 0;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) d += svd.u[i * 4 + p] * double(a[i * n + j]) * svd.v[j * 4 + p];
        CHECK(d == Approx(10 - p).epsilon(1e-4));
      }
    }
  }
  std::vector<float> bad(a);
  bad[5] = std::nanf("");
  CHECK_THROWS_AS(cpu::truncated_svd(bad.data(), m, n, 4), Error);
  try {
    cpu::truncated_svd(bad.data(), m, n, 4);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FactorizationFailed);
  }
}

TEST_CASE("Dual-SVID: packed product equals the dense reconstruction, error falls with rank", "[littlebit]") {
  const int64_t m = 96, n = 160;
  const auto w = decaying_matrix(m, n, 11);
  double prev = 1e9;
  for (const int64_t r : {8, 16, 32, 64}) {
    for (bool residual : {false, true}) {
      const auto lat = dual_svid_init(w.data(), m, n, {r, residual, {}});
      const LittleBitFactors f = binarize(lat);
      REQUIRE(f.path_count() == (residual ? 2 : 1));
      const auto dense = f.reconstruct();
      // Scales are stored as f16: every value must survive the round trip.
      for (const auto& p : f.paths)
        for (float v : p.l) CHECK(std::isfinite(v));
      // The packed kernel against the dense reconstruction, 1e-4 relative.
      for (const int64_t tokens : {1, 5, 33}) {
        const auto x = randn(static_cast<size_t>(tokens * n), 3);
        std::vector<float> y(static_cast<size_t>(tokens * m));
        f.apply(x.data(), tokens, y.data());
        double num = 0, den = 0;
        for (int64_t t = 0; t < tokens; ++t)
          for (int64_t i = 0; i < m; ++i) {
            double ref = 0;
            for (int64_t j = 0; j < n; ++j) ref += double(dense[i * n + j]) * x[t * n + j];
            num += (y[t * m + i] - ref) * (y[t * m + i] - ref);
            den += ref * ref;
          }
        CHECK(std::sqrt(num / den) < 1e-4);
      }
      if (residual) {
        const double err = relative_frobenius_error(w.data(), dense);
        CHECK(err < prev);
        prev = err;
      }
    }
  }
  // The residual path must help.
  const auto one = binarize(dual_svid_init(w.data(), m, n, {32, false, {}})).reconstruct();
  const auto two = binarize(dual_svid_init(w.data(), m, n, {32, true, {}})).reconstruct();
  CHECK(relative_frobenius_error(w.data(), two) < relative_frobenius_error(w.data(), one));
  CHECK_THROWS_AS(dual_svid_init(w.data(), m, n, {m + 1, true, {}}), Error);
}

TEST_CASE("refinement: exact objective with many rows, lower output error, scales-only mode", "[littlebit]") {
  const int64_t m = 48, n = 40, K = 300;  // K > n: the rows are folded into a Cholesky factor
  const auto w = decaying_matrix(m, n, 21);
  // Correlated inputs (a few strong directions), like real activations.
  auto z = randn(static_cast<size_t>(K * n), 22);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < n; ++j) z[k * n + j] *= (j % 5 == 0) ? 8.0f : 1.0f;
  auto lat = dual_svid_init(w.data(), m, n, {8, true, {}});
  const double before = littlebit_output_error(binarize(lat), w.data(), z.data(), K);
  LittleBitRefineOptions o;
  o.steps = 60;
  auto scales_only = lat;
  const auto st = refine_littlebit(lat, w.data(), z.data(), K, o);
  // The reduced problem has the same loss as the K-row one (checked on the start).
  CHECK(st.loss_before == Approx(before).epsilon(1e-3));
  const double after = littlebit_output_error(binarize(lat), w.data(), z.data(), K);
  CHECK(after == Approx(st.loss_after).epsilon(2e-2));  // f16 rounding of the scales only
  CHECK(after < 0.8 * before);
  o.train_signs = false;
  const auto signs_before = binarize(scales_only);
  refine_littlebit(scales_only, w.data(), z.data(), K, o);
  const auto signs_after = binarize(scales_only);
  for (size_t p = 0; p < signs_before.paths.size(); ++p) {
    CHECK(signs_before.paths[p].u == signs_after.paths[p].u);
    CHECK(signs_before.paths[p].v == signs_after.paths[p].v);
  }
  CHECK(littlebit_output_error(signs_after, w.data(), z.data(), K) < before);
  // Weight-space refinement (no calibration rows): the Frobenius error falls.
  auto ws = dual_svid_init(w.data(), m, n, {8, true, {}});
  const double f0 = relative_frobenius_error(w.data(), binarize(ws).reconstruct());
  refine_littlebit(ws, w.data(), nullptr, 0, LittleBitRefineOptions{});
  CHECK(relative_frobenius_error(w.data(), binarize(ws).reconstruct()) < f0);
}

TEST_CASE("refinement with minibatches still lowers the full-row error", "[littlebit]") {
  const int64_t m = 48, n = 200, K = 150;  // K < n: no folding, so batches of 32 rows are drawn
  const auto w = decaying_matrix(m, n, 31);
  const auto z = randn(static_cast<size_t>(K * n), 32);
  auto lat = dual_svid_init(w.data(), m, n, {16, true, {}});
  const double before = littlebit_output_error(binarize(lat), w.data(), z.data(), K);
  LittleBitRefineOptions o;
  o.batch_rows = 32;
  o.seed = 5;
  const auto st = refine_littlebit(lat, w.data(), z.data(), K, o);
  CHECK(st.loss_before == Approx(before).epsilon(1e-3));
  CHECK(littlebit_output_error(binarize(lat), w.data(), z.data(), K) < 0.9 * before);
  // Same seed, same result.
  auto again = dual_svid_init(w.data(), m, n, {16, true, {}});
  refine_littlebit(again, w.data(), z.data(), K, o);
  CHECK(binarize(again) == binarize(lat));
}
