#pragma once
// SIMD bodies of gemm_s8s8s32 (int8_gemm.cpp picks one at run time): output
// columns [n0, n1) of c[M, N] = a[M, K] * b[N, K]^T, exact int32 results.
#include <cstdint>

namespace libquant::cpu::simd {

#if defined(__x86_64__)
void gemm_columns_avx512vnni(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, int64_t n0,
                             int64_t n1);
void gemm_columns_avx2(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, int64_t n0,
                       int64_t n1);
#endif

}  // namespace libquant::cpu::simd
