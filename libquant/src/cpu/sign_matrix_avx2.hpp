#pragma once
// AVX2 body of sign_gemm (sign_matrix.cpp picks it at run time): rows
// [r0, r1) of S into columns [r0, r1) of y[tokens, S.rows].
#include <cstdint>

#include "libquant/cpu/sign_matrix.hpp"

namespace libquant::cpu::simd {

#if defined(__x86_64__)
void sign_gemm_rows_avx2(const SignMatrixView& s, const float* x, int64_t tokens, float* y, int64_t r0, int64_t r1);
#endif

}  // namespace libquant::cpu::simd
