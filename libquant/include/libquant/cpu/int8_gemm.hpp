#pragma once
// INT8 building blocks of W8A8 inference: symmetric int8 quantization of
// activations (per token, dynamic) and of weights (per output channel), and
// the int8 x int8 -> int32 product. Quantization follows compressed-tensors
// exactly (scale = absmax / 127.5, clamp to [-128, 127] before rounding half
// to even), so checkpoints we write and run agree with its reference code.
//
// The GEMM has a scalar reference and fast paths (AVX-512 VNNI, AVX2); all
// are exact integer arithmetic, so every path gives identical results.
// The path follows libquant::simd_level() (core/cpu_features.hpp).
#include <cstdint>

#include "libquant/export.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::cpu {

// The symmetric int8 scale of a range with absolute maximum `absmax`
// (absmax / 127.5, at least FLT_EPSILON so zero rows stay zero).
LIBQUANT_API float int8_scale(float absmax) noexcept;
// round_half_even(clamp(x / scale, -128, 127)).
LIBQUANT_API int8_t quantize_int8(float x, float scale) noexcept;

// Each of the `rows` rows of x[rows, cols] gets its own scale (per token for
// activations, per output channel for weights): q[rows, cols], scales[rows].
LIBQUANT_API void quantize_rows_int8(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scales);
// One scale for the whole tensor (static activation quantization).
LIBQUANT_API void quantize_tensor_int8(const float* x, int64_t n, float scale, int8_t* q);

// c[m, n] = sum_k a[m, k] * b[n, k] with int32 accumulation: a is [M, K]
// (activations, one row per token), b is [N, K] (weights, one row per output),
// both row-major. K must stay below 2^17 so that sums cannot overflow.
LIBQUANT_API void gemm_s8s8s32_reference(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K);
// The same with the fastest path this CPU has, rows of c split over `pool`
// (null: the calling thread only).
LIBQUANT_API void gemm_s8s8s32(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K,
                               ThreadPool* pool = nullptr);

// The instruction-set paths, for tests and benchmarks that compare them.
enum class Int8GemmPath { Scalar, Avx2, Avx512Vnni };
// The path gemm_s8s8s32 takes on this CPU under the current SIMD limit.
LIBQUANT_API Int8GemmPath int8_gemm_path() noexcept;
LIBQUANT_API const char* int8_gemm_path_name(Int8GemmPath p) noexcept;
LIBQUANT_API bool int8_gemm_path_supported(Int8GemmPath p) noexcept;
// gemm_s8s8s32 on the calling thread with a chosen path (must be supported).
LIBQUANT_API void gemm_s8s8s32_on(Int8GemmPath p, const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N,
                                  int64_t K);

}  // namespace libquant::cpu
