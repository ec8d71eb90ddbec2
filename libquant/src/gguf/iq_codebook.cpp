#include "iq_codebook.hpp"

#include <algorithm>
#include <cfloat>
#include <mutex>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu_features.hpp"
#include "libquant/core/error.hpp"

namespace libquant::gguf {
namespace {
#include "iq_grids_data.inc"

template <typename T, int kPoints, int kDim, int kBits>
std::vector<T> decode_grid(const uint16_t* packed, const T* value_of_level) {
  std::vector<T> g(static_cast<size_t>(kPoints) * kDim);
  for (int k = 0; k < kPoints; ++k)
    for (int i = 0; i < kDim; ++i)
      g[static_cast<size_t>(k) * kDim + i] = value_of_level[(packed[k] >> (kBits * i)) & ((1 << kBits) - 1)];
  return g;
}

}  // namespace

Codebook::Codebook(const uint16_t* packed_points, int size, int dim, int bits, int nwant)
    : dim_(dim), size_(size), bits_(bits) {
  points_.resize(static_cast<size_t>(size) * dim);
  for (int k = 0; k < size; ++k)
    for (int i = 0; i < dim; ++i)
      points_[static_cast<size_t>(k) * dim + i] =
          static_cast<int8_t>(2 * ((packed_points[k] >> (bits * i)) & ((1 << bits) - 1)) + 1);
  // Every packed vector with levels 0..(2^bits - 2) per coordinate (llama.cpp
  // sizes the table as 43692 and 4096).
  const int map_size = bits == 2 ? 43692 : 4096;
  map_.assign(static_cast<size_t>(map_size), -1);
  for (int k = 0; k < size; ++k) map_[packed_points[k]] = k;
  // For each off-grid vector: all points at the nwant smallest distinct
  // squared distances, ordered by (distance, index) — what llama.cpp gets
  // from a full qsort, found here with a histogram (distances are small
  // integers), which makes building the 2048-point table ~10x faster.
  const int max_d2 = dim * (2 * ((1 << bits) - 1)) * (2 * ((1 << bits) - 1));
  std::vector<int> d2(static_cast<size_t>(size));
  std::vector<int> hist(static_cast<size_t>(max_d2) + 1);
  std::vector<int8_t> pos(static_cast<size_t>(dim));
  for (int u = 0; u < map_size; ++u) {
    if (map_[static_cast<size_t>(u)] >= 0) continue;
    for (int i = 0; i < dim; ++i)
      pos[static_cast<size_t>(i)] = static_cast<int8_t>(2 * ((u >> (bits * i)) & ((1 << bits) - 1)) + 1);
    std::fill(hist.begin(), hist.end(), 0);
    for (int j = 0; j < size; ++j) {
      const int8_t* pg = point(j);
      int d = 0;
      for (int i = 0; i < dim; ++i) d += (pg[i] - pos[static_cast<size_t>(i)]) * (pg[i] - pos[static_cast<size_t>(i)]);
      d2[static_cast<size_t>(j)] = d;
      ++hist[static_cast<size_t>(d)];
    }
    std::vector<int> wanted;  // the nwant smallest distinct distances
    for (int d = 0; d <= max_d2 && static_cast<int>(wanted.size()) < nwant; ++d)
      if (hist[static_cast<size_t>(d)]) wanted.push_back(d);
    map_[static_cast<size_t>(u)] = -static_cast<int32_t>(neighbours_.size() + 1);
    const size_t start = neighbours_.size();
    neighbours_.push_back(0);
    for (int d : wanted)
      for (int j = 0; j < size; ++j)
        if (d2[static_cast<size_t>(j)] == d) neighbours_.push_back(static_cast<uint16_t>(j));
    neighbours_[start] = static_cast<uint16_t>(neighbours_.size() - start - 1);
  }
  ncoords_at_.assign(static_cast<size_t>(map_size), 0);
  for (int u = 0; u < map_size; ++u) {
    if (map_[static_cast<size_t>(u)] >= 0) continue;
    const uint16_t* nb = neighbours_of(static_cast<uint32_t>(u));
    const int padded = (nb[0] + 7) / 8 * 8;
    ncoords_at_[static_cast<size_t>(u)] = static_cast<uint32_t>(ncoords_.size());
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < padded; ++j) ncoords_.push_back(j < nb[0] ? point(nb[j + 1])[i] : int8_t{0});
  }
}

namespace {

// Weighted squared error of each listed neighbour, in list order, with
// llama.cpp's arithmetic: d2 += w_i * diff_i * diff_i over i. `coords` holds
// the neighbours' coordinates coordinate-major, padded to 8.
void neighbour_errors_scalar(const int8_t* coords, int dim, int count, const float* xval, const float* weight,
                             float scale, float* out) {
  const int padded = (count + 7) / 8 * 8;
  for (int j = 0; j < count; ++j) {
    float d2 = 0;
    for (int i = 0; i < dim; ++i) {
      const float diff = scale * static_cast<float>(coords[static_cast<size_t>(i) * padded + j]) - xval[i];
      d2 += weight[i] * diff * diff;
    }
    out[j] = d2;
  }
}

#if defined(__x86_64__)
// Eight neighbours per step, one per lane; each lane's sum keeps the scalar
// order over coordinates, so the errors are bit-identical.
// The same, eight neighbours per step (one per lane, each lane in the scalar order).
__attribute__((target("avx2"))) void neighbour_errors_avx2(const int8_t* coords, int dim, int count, const float* xval,
                                                           const float* weight, float scale, float* out) {
  const __m256 vs = _mm256_set1_ps(scale);
  const int padded = (count + 7) / 8 * 8;
  for (int j = 0; j < padded; j += 8) {
    __m256 d2 = _mm256_setzero_ps();
    for (int i = 0; i < dim; ++i) {
      const __m128i q8 =
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(coords + static_cast<size_t>(i) * padded + j));
      const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
      const __m256 diff = _mm256_sub_ps(_mm256_mul_ps(vs, q), _mm256_set1_ps(xval[i]));
      d2 = _mm256_add_ps(d2, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(weight[i]), diff), diff));
    }
    _mm256_storeu_ps(out + j, d2);
  }
}
#endif

}  // namespace

int Codebook::best_neighbour(uint32_t packed, const float* xval, const float* weight, float scale, int8_t* L) const {
  const uint16_t* nb = neighbours_of(packed);
  const int count = nb[0];
  float d2[512];
  std::vector<float> big;  // lists longer than any llama.cpp codebook produces
  float* errs = d2;
  if (count + 8 > 512) {
    big.resize(static_cast<size_t>(count) + 8);
    errs = big.data();
  }
  const int8_t* coords = ncoords_.data() + ncoords_at_[packed];
#if defined(__x86_64__)
  if (use_avx2())
    neighbour_errors_avx2(coords, dim_, count, xval, weight, scale, errs);
  else
#endif
    neighbour_errors_scalar(coords, dim_, count, xval, weight, scale, errs);
  float best_d2 = FLT_MAX;
  int best = -1;
  for (int j = 0; j < count; ++j)  // first strictly smaller wins, as llama.cpp
    if (errs[j] < best_d2) {
      best_d2 = errs[j];
      best = nb[j + 1];
    }
  if (best < 0) throw Error(ErrorCode::General, "codebook search found no neighbour (non-finite input?)");
  const int8_t* pg = point(best);
  for (int i = 0; i < dim_; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return best;
}

const Codebook& Codebook::get(CodebookKind kind) {
  // Built on first use: the neighbour tables take a fraction of a second.
  static std::once_flag once[6];
  static const Codebook* books[6];
  const int i = static_cast<int>(kind);
  std::call_once(once[i], [&] {
    switch (kind) {
      case CodebookKind::IQ2_XXS:
        books[i] = new Codebook(kIq2xxsPoints, 256, 8, 2, 2);
        break;
      case CodebookKind::IQ2_XS:
        books[i] = new Codebook(kIq2xsPoints, 512, 8, 2, 2);
        break;
      case CodebookKind::IQ2_S:
        books[i] = new Codebook(kIq2sPoints, 1024, 8, 2, 1);
        break;
      case CodebookKind::IQ1_S:
        books[i] = new Codebook(kIq1sPoints, 2048, 8, 2, 3);
        break;
      case CodebookKind::IQ3_XXS:
        books[i] = new Codebook(kIq3xxsPoints, 256, 4, 3, 2);
        break;
      case CodebookKind::IQ3_S:
        books[i] = new Codebook(kIq3sPoints, 512, 4, 3, 3);
        break;
    }
  });
  return *books[i];
}

namespace {
constexpr uint8_t kIq2Levels[3] = {0x08, 0x19, 0x2b};
constexpr uint8_t kIq3xxsLevels[8] = {0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3e};
constexpr uint8_t kIq3sLevels[8] = {0x01, 0x03, 0x05, 0x07, 0x09, 0x0b, 0x0d, 0x0f};
constexpr int8_t kIq1Levels[3] = {-1, 0, 1};
}  // namespace

const uint8_t* iq2xxs_grid_bytes() {
  static const auto g = decode_grid<uint8_t, 256, 8, 2>(kIq2xxsPoints, kIq2Levels);
  return g.data();
}
const uint8_t* iq2xs_grid_bytes() {
  static const auto g = decode_grid<uint8_t, 512, 8, 2>(kIq2xsPoints, kIq2Levels);
  return g.data();
}
const uint8_t* iq2s_grid_bytes() {
  static const auto g = decode_grid<uint8_t, 1024, 8, 2>(kIq2sPoints, kIq2Levels);
  return g.data();
}
const int8_t* iq1s_grid_values() {
  static const auto g = decode_grid<int8_t, 2048, 8, 2>(kIq1sPoints, kIq1Levels);
  return g.data();
}
const uint8_t* iq3xxs_grid_bytes() {
  static const auto g = decode_grid<uint8_t, 256, 4, 3>(kIq3xxsPoints, kIq3xxsLevels);
  return g.data();
}
const uint8_t* iq3s_grid_bytes() {
  static const auto g = decode_grid<uint8_t, 512, 4, 3>(kIq3sPoints, kIq3sLevels);
  return g.data();
}

}  // namespace libquant::gguf
