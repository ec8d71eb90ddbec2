#include "cuda_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <vector>

#include "libquant/backend/cuda_plugin_abi.h"
#include "libquant/core/error.hpp"
#include "libquant/cpu/truncated_svd.hpp"

namespace libquant::backend {
namespace {

namespace fs = std::filesystem;

std::mutex g_plugin_mutex;  // guards g_plugin and g_loaded
fs::path g_plugin;          // choose_cuda_plugin's file, empty: look it up
bool g_loaded = false;      // load_cuda_backend ran (with g_plugin as it was)

// Where the plugin may be: the chosen file, else next to libquant (an
// install), the build tree's libquant_cuda/ beside libquant/, then the loader's path.
std::vector<std::string> plugin_candidates(const fs::path& chosen) {
  if (!chosen.empty()) return {chosen.string()};
  std::vector<std::string> out;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&load_cuda_backend), &info) && info.dli_fname) {
    const fs::path dir = fs::path(info.dli_fname).parent_path();
    out.push_back((dir / "libquant_cuda.so").string());
    out.push_back((dir.parent_path() / "libquant_cuda" / "libquant_cuda.so").string());
  }
  out.push_back("libquant_cuda.so");
  return out;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(void* handle, LqCudaTable t, std::string name, LqCudaLastErrorFn last_error)
      : handle_(handle), t_(t), name_(std::move(name)), last_error_(last_error) {}
  ~CudaBackend() override = default;  // the plugin stays loaded until exit (CUDA dislikes dlclose)

  std::string name() const override { return name_; }
  bool is_gpu() const noexcept override { return true; }

  void gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc) override {
    if (M == 0 || N == 0) return;
    if (K == 0) return cpu_backend().gemm_f32(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);  // c = beta c
    if (fallback(t_.gemm_f32(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc), "GEMM"))
      cpu_backend().gemm_f32(ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  void gemm_half_nt(HalfType type, int64_t M, int64_t N, int64_t K, const uint16_t* a, const uint16_t* b,
                    float* c) override {
    if (fallback(t_.gemm_half_nt(type == HalfType::BF16, M, N, K, a, b, c), "16-bit GEMM"))
      cpu_backend().gemm_half_nt(type, M, N, K, a, b, c);
  }
  void gemm_i8_nt(int64_t M, int64_t N, int64_t K, const int8_t* a, const int8_t* b, int32_t* c) override {
    if (fallback(t_.gemm_i8_nt(M, N, K, a, b, c), "int8 GEMM")) cpu_backend().gemm_i8_nt(M, N, K, a, b, c);
  }
  void accumulate_xtx(const float* x, int64_t rows, int64_t n, double* h) override {
    if (fallback(t_.accumulate_xtx(x, rows, n, h), "X^T X")) cpu_backend().accumulate_xtx(x, rows, n, h);
  }
  TruncatedSvd truncated_svd(const float* a, int64_t m, int64_t n, int64_t k, const SvdOptions& o) override {
    cpu::validate_svd_input(a, m, n, k);
    TruncatedSvd r{m,
                   n,
                   k,
                   std::vector<float>(static_cast<size_t>(m * k)),
                   std::vector<float>(static_cast<size_t>(k)),
                   std::vector<float>(static_cast<size_t>(n * k))};
    int rc;
    if (cpu::resolve_svd_method(m, n, k, o.method) == SvdMethod::Randomized) {
      // The CPU's sketch, so both backends start from the same random subspace.
      const int64_t kp = std::min(k + o.oversample, std::min(m, n));
      std::vector<double> omega(static_cast<size_t>(n * kp));
      cpu::svd_gaussian_sketch(omega.data(), omega.size(), o.seed);
      rc = t_.svd_randomized(a, m, n, k, omega.data(), kp, o.power_iterations, o.double_precision, r.u.data(),
                             r.s.data(), r.v.data());
    } else {
      rc = t_.svd_exact(a, m, n, k, o.double_precision, r.u.data(), r.s.data(), r.v.data());
    }
    if (rc == LQ_CUDA_NOT_CONVERGED)
      throw Error(ErrorCode::FactorizationFailed, "the GPU SVD did not converge", "Retry on the CPU (`Device::Cpu`)");
    if (fallback(rc, "SVD")) return cpu_backend().truncated_svd(a, m, n, k, o);
    return r;
  }
  bool cholesky(double* a, int64_t n) override {
    const int rc = t_.cholesky(a, n);
    if (rc == LQ_CUDA_NOT_CONVERGED) return false;
    if (fallback(rc, "Cholesky")) return cpu_backend().cholesky(a, n);
    return true;
  }
  bool symmetric_eigen(double* a, int64_t n, double* w) override {
    const int rc = t_.symmetric_eigen(a, n, w);
    if (rc == LQ_CUDA_NOT_CONVERGED) return false;
    if (fallback(rc, "eigen-decomposition")) return cpu_backend().symmetric_eigen(a, n, w);
    return true;
  }
  void sign_gemm(const SignMatrixView& s, const float* x, int64_t tokens, float* y) override {
    if (fallback(t_.sign_gemm(s.bits, s.rows, s.cols, s.words_per_row, x, tokens, y), "sign GEMM"))
      cpu_backend().sign_gemm(s, x, tokens, y);
  }
  bool quantize_rows(DType t, const float* src, void* dst, int64_t rows, int64_t cols, const float* imp) override {
    return !fallback(t_.quantize_rows(static_cast<int>(t), src, dst, rows, cols, imp), "row quantization");
  }

 private:
  // True when the plugin declined (use the CPU); throws on a CUDA failure.
  bool fallback(int rc, const char* what) const {
    if (rc == 0) return false;
    if (rc == LQ_CUDA_UNSUPPORTED) return true;
    throw Error(ErrorCode::General, std::string("CUDA ") + what + " failed: " + (last_error_ ? last_error_() : "?"),
                "Retry on the CPU (`Device::Cpu`)");
  }

  void* handle_;
  LqCudaTable t_;
  std::string name_;
  LqCudaLastErrorFn last_error_;
};

CudaLoad try_load(const fs::path& chosen) {
  CudaLoad out;
  std::string tried;
  void* h = nullptr;
  for (const auto& path : plugin_candidates(chosen)) {
    h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) break;
    // dlerror's buffer is per process: fine here, the load runs once inside a static initialisation.
    tried += (tried.empty() ? "" : "; ") + std::string(dlerror());  // NOLINT(concurrency-mt-unsafe)
  }
  if (!h) {
    out.reason = "libquant_cuda plugin not found (" + tried + ")";
    return out;
  }
  auto version = reinterpret_cast<LqCudaAbiVersionFn>(dlsym(h, LQ_CUDA_SYMBOL_ABI_VERSION));
  auto count = reinterpret_cast<LqCudaDeviceCountFn>(dlsym(h, LQ_CUDA_SYMBOL_DEVICE_COUNT));
  auto open = reinterpret_cast<LqCudaOpenFn>(dlsym(h, LQ_CUDA_SYMBOL_OPEN));
  auto last_error = reinterpret_cast<LqCudaLastErrorFn>(dlsym(h, LQ_CUDA_SYMBOL_LAST_ERROR));
  if (!version || !count || !open) {
    out.reason = "the libquant_cuda plugin lacks its entry points";
    return out;
  }
  if (version() != LQ_CUDA_ABI_VERSION) {
    out.reason = "libquant_cuda speaks plugin ABI " + std::to_string(version()) + ", libquant needs " +
                 std::to_string(LQ_CUDA_ABI_VERSION);
    return out;
  }
  if (count() <= 0) {
    out.reason = "no CUDA device visible";
    return out;
  }
  LqCudaTable table{};
  char name[256] = {};
  if (open(0, name, sizeof name, &table) != 0) {
    out.reason = std::string("CUDA initialisation failed: ") + (last_error ? last_error() : "?");
    return out;
  }
  out.backend = std::make_unique<CudaBackend>(h, table, std::string("cuda:0 ") + name, last_error);
  return out;
}

}  // namespace

void choose_cuda_plugin(const fs::path& plugin) {
  std::lock_guard lock(g_plugin_mutex);
  if (g_loaded && plugin != g_plugin)
    throw Error(ErrorCode::InvalidArgument,
                "the CUDA plugin is already loaded; '" + plugin.string() + "' comes too late",
                "Name the plugin file before the first device selection");
  g_plugin = plugin;
}

const CudaLoad& load_cuda_backend() {
  static const CudaLoad load = [] {
    fs::path chosen;
    {
      std::lock_guard lock(g_plugin_mutex);
      g_loaded = true;
      chosen = g_plugin;
    }
    return try_load(chosen);
  }();
  return load;
}

}  // namespace libquant::backend
