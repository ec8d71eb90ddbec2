#pragma once
// Matrices of +1/-1 packed one bit per entry, and the products LittleBit
// inference needs: y[t, rows] = x[t, cols] * S^T for a packed S. Activations
// stay real, so a product is a signed sum of inputs: flipping the sign bit of
// x where S is -1 and adding, no multiplications and 1/32 of f32's bytes.
//
// Layout (also the on-disk layout of .littlebit sign blocks): row-major, each
// row padded to whole 64-bit little-endian words; entry c of a row is bit
// c % 64 of word c / 64, least significant bit first. A set bit is -1, a
// clear bit +1 (so padding is +1, and sign(0) = +1).
//
// Paths: a scalar reference, an AVX2 kernel for few rows of x (GEMV / small
// batches, bound by the packed bytes), and for many rows an unpack-to-f32 +
// BLAS path (the product is then compute-bound and BLAS wins). All paths sum
// in f32 and agree to rounding. The SIMD limit (core/cpu_features.hpp) at Scalar forces the reference.
#include <cstdint>
#include <vector>

#include "libquant/core/linalg_types.hpp"
#include "libquant/export.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::cpu {

using libquant::SignMatrixView;  // core/linalg_types.hpp

class LIBQUANT_API PackedSigns {
 public:
  PackedSigns() = default;
  PackedSigns(int64_t rows, int64_t cols);  // all +1
  // Signs of x[rows, cols] (row-major): -1 where x < 0, +1 elsewhere (0 and NaN included).
  static PackedSigns from_values(const float* x, int64_t rows, int64_t cols);

  int64_t rows() const noexcept { return rows_; }
  int64_t cols() const noexcept { return cols_; }
  int64_t words_per_row() const noexcept { return wpr_; }
  static int64_t words_per_row(int64_t cols) noexcept { return (cols + 63) / 64; }
  SignMatrixView view() const noexcept { return {words_.data(), rows_, cols_, wpr_}; }
  uint64_t* data() noexcept { return words_.data(); }
  const uint64_t* data() const noexcept { return words_.data(); }
  uint64_t nbytes() const noexcept { return words_.size() * sizeof(uint64_t); }
  void set(int64_t r, int64_t c, bool negative) noexcept;
  float at(int64_t r, int64_t c) const noexcept { return view().at(r, c); }
  bool operator==(const PackedSigns& o) const = default;

 private:
  int64_t rows_ = 0, cols_ = 0, wpr_ = 0;
  std::vector<uint64_t> words_;
};

// Rows [r0, r1) of S as +1/-1 floats into dst[(r1 - r0), cols].
LIBQUANT_API void unpack_signs(const SignMatrixView& s, int64_t r0, int64_t r1, float* dst);

enum class SignGemmPath { Scalar, Avx2, UnpackBlas };
// The path sign_gemm takes for `tokens` rows of x on this CPU.
LIBQUANT_API SignGemmPath sign_gemm_path(int64_t tokens) noexcept;
LIBQUANT_API bool sign_gemm_path_supported(SignGemmPath p) noexcept;
LIBQUANT_API const char* sign_gemm_path_name(SignGemmPath p) noexcept;

// y[t, s.rows] = x[t, s.cols] * S^T for t < tokens (row-major, y overwritten).
LIBQUANT_API void sign_gemm_reference(const SignMatrixView& s, const float* x, int64_t tokens, float* y);
// The fastest path for this shape, rows of S split over `pool` (null: this thread).
LIBQUANT_API void sign_gemm(const SignMatrixView& s, const float* x, int64_t tokens, float* y,
                            ThreadPool* pool = nullptr);
// A chosen path on the calling thread (must be supported), for tests and benchmarks.
LIBQUANT_API void sign_gemm_on(SignGemmPath p, const SignMatrixView& s, const float* x, int64_t tokens, float* y);

}  // namespace libquant::cpu
