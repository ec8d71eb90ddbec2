#pragma once
// A LittleBit-factorized linear layer as inference runs it:
//     W ~ sum_p diag(h_p) S_U,p diag(l_p) S_V,p diag(g_p)
// with packed +-1 matrices S_U [m, r], S_V [r, n] and f16-exact scales.
// y = x W^T is computed without forming W (x * g -> S_V -> * l -> S_U -> * h
// per path), so a layer costs 2 r (m + n) sign additions per token and
// r (m + n) / 8 bytes of signs per path. methods/littlebit.hpp makes these.
#include <cstdint>
#include <functional>
#include <vector>

#include "libquant/cpu/sign_matrix.hpp"
#include "libquant/export.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::cpu {

// The LittleBit paper's bits per weight for a layer of m x n at rank r with
// `paths` paths: P (r (m + n + 16) + 16 (m + n)) / (m n).
LIBQUANT_API double littlebit_bpw(int64_t m, int64_t n, int64_t rank, int paths) noexcept;

// One path: packed signs and the three scale vectors (values are f16-exact
// once finalized, as the file stores them).
struct LittleBitPath {
  cpu::PackedSigns u;    // [m, r]: row i holds the signs multiplying output i
  cpu::PackedSigns v;    // [r, n]: row k runs along the input features
  std::vector<float> h;  // [m] output scale
  std::vector<float> l;  // [r] latent scale
  std::vector<float> g;  // [n] input scale
  bool operator==(const LittleBitPath&) const = default;
};

struct LIBQUANT_API LittleBitFactors {
  int64_t out = 0, in = 0, rank = 0;
  std::vector<LittleBitPath> paths;

  int path_count() const noexcept { return static_cast<int>(paths.size()); }
  // Throws Error(ValidationFailed) unless every path's signs and scales have
  // the sizes out, in and rank imply (the products below rely on it).
  void validate() const;
  double bpw() const noexcept { return littlebit_bpw(out, in, rank, path_count()); }
  // Dense [out, in] reconstruction (for lossy GGUF and error measurements).
  std::vector<float> reconstruct() const;
  // Rows [r0, r0 + n) of it into dst[n, in].
  void reconstruct_rows(int64_t r0, int64_t n, float* dst) const;
  // y[t, out] = x[t, in] W^T on the packed signs (rows of S split over `pool`).
  void apply(const float* x, int64_t tokens, float* y, ThreadPool* pool = nullptr) const;
  // The same with another y = x S^T implementation (a GPU backend's).
  using SignGemmFn = std::function<void(const SignMatrixView&, const float*, int64_t, float*)>;
  void apply_with(const float* x, int64_t tokens, float* y, const SignGemmFn& sign_product) const;
  bool operator==(const LittleBitFactors&) const = default;
};

}  // namespace libquant::cpu
