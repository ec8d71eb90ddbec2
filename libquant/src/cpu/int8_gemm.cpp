#include "libquant/cpu/int8_gemm.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>

#include "int8_gemm_simd.hpp"
#include "libquant/core/cpu_features.hpp"
#include "libquant/core/thread_pool.hpp"

namespace libquant::cpu {

float int8_scale(float absmax) noexcept { return std::max(absmax / 127.5f, FLT_EPSILON); }

int8_t quantize_int8(float x, float scale) noexcept {
  // Clamp before rounding, as compressed-tensors does: 127.5 -> 127, -127.5 -> -128.
  const float v = std::clamp(x / scale, -128.0f, 127.0f);
  return static_cast<int8_t>(std::nearbyint(v));  // default rounding mode: half to even
}

void quantize_rows_int8(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scales) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    float amax = 0.0f;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
    const float s = int8_scale(amax);
    scales[r] = s;
    for (int64_t c = 0; c < cols; ++c) q[r * cols + c] = quantize_int8(row[c], s);
  }
}

void quantize_tensor_int8(const float* x, int64_t n, float scale, int8_t* q) {
  for (int64_t i = 0; i < n; ++i) q[i] = quantize_int8(x[i], scale);
}

namespace {
// The plain triple loop, over output columns [n0, n1).
void reference_columns(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, int64_t n0,
                       int64_t n1) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = n0; n < n1; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int32_t{a[m * K + k]} * int32_t{b[n * K + k]};
      c[m * N + n] = acc;
    }
}
}  // namespace

void gemm_s8s8s32_reference(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K) {
  reference_columns(a, b, c, M, N, K, 0, N);
}

namespace {

// Supported by this CPU and allowed by the SIMD limit (libquant/core/cpu_features.hpp).
bool cpu_has(Int8GemmPath p) {
#if defined(__x86_64__)
  switch (p) {
    case Int8GemmPath::Avx512Vnni:
      return use_avx512_vnni();
    case Int8GemmPath::Avx2:
      return simd_level() >= SimdLevel::Avx2;
    default:
      return true;
  }
#else
  return p == Int8GemmPath::Scalar;
#endif
}

Int8GemmPath pick_path() {
  for (auto p : {Int8GemmPath::Avx512Vnni, Int8GemmPath::Avx2})
    if (cpu_has(p)) return p;
  return Int8GemmPath::Scalar;
}

// Output columns [n0, n1) for every row of a.
void gemm_columns(Int8GemmPath p, const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K,
                  int64_t n0, int64_t n1) {
  switch (p) {
#if defined(__x86_64__)
    case Int8GemmPath::Avx512Vnni:
      return simd::gemm_columns_avx512vnni(a, b, c, M, N, K, n0, n1);
    case Int8GemmPath::Avx2:
      return simd::gemm_columns_avx2(a, b, c, M, N, K, n0, n1);
#endif
    default:
      return reference_columns(a, b, c, M, N, K, n0, n1);
  }
}

}  // namespace

Int8GemmPath int8_gemm_path() noexcept { return pick_path(); }

const char* int8_gemm_path_name(Int8GemmPath p) noexcept {
  switch (p) {
    case Int8GemmPath::Avx512Vnni:
      return "avx512-vnni";
    case Int8GemmPath::Avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

bool int8_gemm_path_supported(Int8GemmPath p) noexcept { return cpu_has(p); }

void gemm_s8s8s32_on(Int8GemmPath p, const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K) {
  if (M > 0 && N > 0) gemm_columns(cpu_has(p) ? p : Int8GemmPath::Scalar, a, b, c, M, N, K, 0, N);
}

void gemm_s8s8s32(const int8_t* a, const int8_t* b, int32_t* c, int64_t M, int64_t N, int64_t K, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  // Split the weight rows (output columns) in tiles of 16, so each thread
  // streams its own part of the weights once.
  constexpr int64_t kTile = 16;
  const int64_t tiles = (N + kTile - 1) / kTile;
  auto run = [&](size_t t0, size_t t1) {
    gemm_columns(int8_gemm_path(), a, b, c, M, N, K, static_cast<int64_t>(t0) * kTile,
                 std::min(N, static_cast<int64_t>(t1) * kTile));
  };
  if (pool && pool->size() > 1 && tiles > 1)
    pool->parallel_for(static_cast<size_t>(tiles), 1, run);
  else
    run(0, static_cast<size_t>(tiles));
}

}  // namespace libquant::cpu
