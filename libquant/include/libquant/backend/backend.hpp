#pragma once
// The compute backend: the heavy operations methods need, behind one
// interface, so the same library and CLI run on a CPU and use a GPU when one
// is there. The CPU backend (OpenBLAS, LAPACK, our kernels) is always
// present; the CUDA backend lives in the libquant_cuda plugin, loaded at run
// time with dlopen only when asked for (`use_device`), so a CPU-only install
// never needs CUDA libraries.
//
// All arguments are host memory and row-major; a GPU backend moves data as it
// needs. Results equal the CPU backend's within the tolerances the backend
// tests state (bit for bit for GGUF row quantization and integer GEMM).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "libquant/core/dtype.hpp"
#include "libquant/core/linalg_types.hpp"
#include "libquant/export.hpp"

namespace libquant::backend {

enum class Device { Auto, Cpu, Cuda };
// "auto" | "cpu" | "cuda"; throws Error(InvalidArgument) otherwise.
LIBQUANT_API Device parse_device(std::string_view name);

enum class HalfType { F16, BF16 };

class LIBQUANT_API Backend {
 public:
  virtual ~Backend();
  virtual std::string name() const = 0;  // "cpu (OpenBLAS)", "cuda:0 NVIDIA H100 80GB HBM3"
  virtual bool is_gpu() const noexcept = 0;

  // c = alpha op(a) op(b) + beta c; op(a) is [M, K], op(b) [K, N], c [M, N].
  virtual void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* a,
                        int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) = 0;
  // c[M, N] = a[M, K] b[N, K]^T with 16-bit inputs (bit patterns) and f32 accumulation.
  virtual void gemm_half_nt(HalfType type, int64_t M, int64_t N, int64_t K, const uint16_t* a, const uint16_t* b,
                            float* c) = 0;
  // c[M, N] = a[M, K] b[N, K]^T in int8 with exact int32 accumulation (K < 2^17).
  virtual void gemm_i8_nt(int64_t M, int64_t N, int64_t K, const int8_t* a, const int8_t* b, int32_t* c) = 0;
  // h[n, n] += x^T x over x[rows, n], accumulated in f64 (both triangles written).
  virtual void accumulate_xtx(const float* x, int64_t rows, int64_t n, double* h) = 0;
  // The k leading singular triplets (cpu/truncated_svd.hpp's contract).
  virtual TruncatedSvd truncated_svd(const float* a, int64_t m, int64_t n, int64_t k, const SvdOptions& opts) = 0;
  // a[n, n] symmetric positive definite -> its lower Cholesky factor L (a = L L^T,
  // upper triangle zeroed); false when a is not positive definite.
  virtual bool cholesky(double* a, int64_t n) = 0;
  // Eigen-decomposition of symmetric a[n, n]: eigenvalues ascending into w, the
  // matching unit eigenvectors into the rows of a. False when it does not converge.
  virtual bool symmetric_eigen(double* a, int64_t n, double* w) = 0;
  // y[t, s.rows] = x[t, s.cols] S^T on packed signs (LittleBit).
  virtual void sign_gemm(const SignMatrixView& s, const float* x, int64_t tokens, float* y) = 0;
  // GGUF rows of type t (gguf/row_codec.hpp's quantize_rows). A backend may
  // implement only some types: false means "not here", and the caller uses the CPU.
  virtual bool quantize_rows(DType t, const float* src, void* dst, int64_t rows, int64_t cols,
                             const float* importance) = 0;
};

// Always available.
LIBQUANT_API Backend& cpu_backend();

// The backend methods use: the CPU unless use_device() picked another.
LIBQUANT_API Backend& active();

// Names the libquant_cuda plugin file to load instead of looking it up (next
// to libquant, in the build tree, then on the loader's path). The plugin is
// loaded once per process, by the first use_device(Cuda | Auto) or
// cuda_unavailable_reason(): call this before those; naming another file
// after the load is Error(InvalidArgument). An empty path restores the lookup.
LIBQUANT_API void set_cuda_plugin_path(const std::filesystem::path& plugin);

// Picks the backend for this process. Cpu: the CPU. Cuda: the libquant_cuda
// plugin (set_cuda_plugin_path's file, else looked up) with a visible GPU, else
// Error(UnsupportedConversion) saying why. Auto: CUDA when that works, else the CPU.
LIBQUANT_API Backend& use_device(Device device);

// Why the CUDA backend cannot be used here ("" when it can).
LIBQUANT_API std::string cuda_unavailable_reason();

}  // namespace libquant::backend
