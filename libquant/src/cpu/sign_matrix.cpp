#include "libquant/cpu/sign_matrix.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>

#include "libquant/core/cpu_features.hpp"
#include "libquant/core/thread_pool.hpp"
#include "sign_matrix_avx2.hpp"

namespace libquant::cpu {

PackedSigns::PackedSigns(int64_t rows, int64_t cols)
    : rows_(rows), cols_(cols), wpr_(words_per_row(cols)), words_(static_cast<size_t>(rows * wpr_), 0) {}

PackedSigns PackedSigns::from_values(const float* x, int64_t rows, int64_t cols) {
  PackedSigns s(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (x[r * cols + c] < 0) s.words_[static_cast<size_t>(r * s.wpr_ + c / 64)] |= uint64_t{1} << (c % 64);
  return s;
}

void PackedSigns::set(int64_t r, int64_t c, bool negative) noexcept {
  uint64_t& w = words_[static_cast<size_t>(r * wpr_ + c / 64)];
  const uint64_t bit = uint64_t{1} << (c % 64);
  w = negative ? (w | bit) : (w & ~bit);
}

void unpack_signs(const SignMatrixView& s, int64_t r0, int64_t r1, float* dst) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* row = s.bits + r * s.words_per_row;
    float* d = dst + (r - r0) * s.cols;
    for (int64_t c = 0; c < s.cols; ++c) d[c] = (row[c / 64] >> (c % 64)) & 1u ? -1.0f : 1.0f;
  }
}

void sign_gemm_reference(const SignMatrixView& s, const float* x, int64_t tokens, float* y) {
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t r = 0; r < s.rows; ++r) {
      float acc = 0;
      for (int64_t c = 0; c < s.cols; ++c) acc += s.at(r, c) * x[t * s.cols + c];
      y[t * s.rows + r] = acc;
    }
}

namespace {

// From this many tokens on, unpacking blocks of S to f32 and calling BLAS
// beats the XOR kernel: each unpacked row then serves many tokens.
constexpr int64_t kBlasTokens = 16;
constexpr int64_t kUnpackRows = 256;

void unpack_blas(const SignMatrixView& s, const float* x, int64_t tokens, float* y) {
  std::vector<float> block(static_cast<size_t>(std::min(kUnpackRows, s.rows) * s.cols));
  for (int64_t r0 = 0; r0 < s.rows; r0 += kUnpackRows) {
    const int64_t r1 = std::min(s.rows, r0 + kUnpackRows);
    unpack_signs(s, r0, r1, block.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(tokens), static_cast<blasint>(r1 - r0),
                static_cast<blasint>(s.cols), 1.0f, x, static_cast<blasint>(s.cols), block.data(),
                static_cast<blasint>(s.cols), 0.0f, y + r0, static_cast<blasint>(s.rows));
  }
}

void rows_on(SignGemmPath p, const SignMatrixView& s, const float* x, int64_t tokens, float* y, int64_t r0,
             int64_t r1) {
#if defined(__x86_64__)
  if (p == SignGemmPath::Avx2) return simd::sign_gemm_rows_avx2(s, x, tokens, y, r0, r1);
#endif
  (void)p;
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t r = r0; r < r1; ++r) {
      float acc = 0;
      for (int64_t c = 0; c < s.cols; ++c) acc += s.at(r, c) * x[t * s.cols + c];
      y[t * s.rows + r] = acc;
    }
}

}  // namespace

bool sign_gemm_path_supported(SignGemmPath p) noexcept {
  switch (p) {
    case SignGemmPath::Scalar:
    case SignGemmPath::UnpackBlas:
      return true;
    case SignGemmPath::Avx2:
#if defined(__x86_64__)
      return simd_level() >= SimdLevel::Avx2;
#else
      return false;
#endif
  }
  return false;
}

SignGemmPath sign_gemm_path(int64_t tokens) noexcept {
  if (simd_level() == SimdLevel::Scalar) return SignGemmPath::Scalar;
  if (tokens >= kBlasTokens) return SignGemmPath::UnpackBlas;
  return sign_gemm_path_supported(SignGemmPath::Avx2) ? SignGemmPath::Avx2 : SignGemmPath::Scalar;
}

const char* sign_gemm_path_name(SignGemmPath p) noexcept {
  switch (p) {
    case SignGemmPath::Scalar:
      return "scalar";
    case SignGemmPath::Avx2:
      return "avx2";
    case SignGemmPath::UnpackBlas:
      return "unpack+blas";
  }
  return "?";
}

void sign_gemm_on(SignGemmPath p, const SignMatrixView& s, const float* x, int64_t tokens, float* y) {
  if (p == SignGemmPath::UnpackBlas) return unpack_blas(s, x, tokens, y);
  rows_on(p, s, x, tokens, y, 0, s.rows);
}

void sign_gemm(const SignMatrixView& s, const float* x, int64_t tokens, float* y, ThreadPool* pool) {
  const SignGemmPath p = sign_gemm_path(tokens);
  if (p == SignGemmPath::UnpackBlas || !pool || pool->size() <= 1 || s.rows < 64)
    return sign_gemm_on(p, s, x, tokens, y);
  pool->parallel_for(static_cast<size_t>(s.rows), 32, [&](size_t r0, size_t r1) {
    rows_on(p, s, x, tokens, y, static_cast<int64_t>(r0), static_cast<int64_t>(r1));
  });
}

}  // namespace libquant::cpu
