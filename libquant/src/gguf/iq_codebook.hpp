#pragma once
// The lattice codebooks of the IQ1/IQ2/IQ3 types with the lookup structures
// their quantizers search: grid points (coordinates 2l+1), a map from every
// packed level vector to its grid index, and for off-grid vectors the list
// of nearest grid points (ties broken by index, as llama.cpp's qsort with a
// total order) so that results match llama-quantize exactly.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace libquant::gguf {

enum class CodebookKind { IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ3_XXS, IQ3_S };

class Codebook {
 public:
  int dim() const noexcept { return dim_; }
  int size() const noexcept { return size_; }
  // Grid point k's coordinates (odd values 1, 3, 5, ...).
  const int8_t* point(int k) const noexcept { return points_.data() + static_cast<size_t>(k) * dim_; }
  // Grid index of a packed level vector (levels at bits_per_coord each), or -1.
  int index_of(uint32_t packed) const noexcept { return map_[packed] >= 0 ? map_[packed] : -1; }
  // For an off-grid packed vector: the nearest grid point under weighted
  // squared error at `scale`; writes its levels ((p - 1) / 2) into L.
  int best_neighbour(uint32_t packed, const float* xval, const float* weight, float scale, int8_t* L) const;

  // The neighbour list of an off-grid packed vector: count, then indices.
  const uint16_t* neighbours_of(uint32_t packed) const noexcept { return neighbours_.data() + (-map_[packed] - 1); }

  static const Codebook& get(CodebookKind kind);  // built once, thread-safe

 private:
  Codebook(const uint16_t* packed_points, int size, int dim, int bits, int nwant);
  int dim_, size_, bits_;
  std::vector<int8_t> points_;
  // Per off-grid vector, its neighbours' coordinates coordinate-major and
  // padded to 8 (so 8 neighbours load with one contiguous read per coordinate).
  std::vector<int8_t> ncoords_;
  std::vector<uint32_t> ncoords_at_;  // per packed vector: offset into ncoords_
  std::vector<int32_t> map_;          // >= 0: grid index; < 0: -(offset + 1) into neighbours_
  std::vector<uint16_t> neighbours_;  // [count, idx...] runs
};

// Decoded magnitudes of each codebook's points, as the dequantizers use them.
const uint8_t* iq2xxs_grid_bytes();  // 256 x 8
const uint8_t* iq2xs_grid_bytes();   // 512 x 8
const uint8_t* iq2s_grid_bytes();    // 1024 x 8
const int8_t* iq1s_grid_values();    // 2048 x 8, values -1, 0, 1
const uint8_t* iq3xxs_grid_bytes();  // 256 x 4
const uint8_t* iq3s_grid_bytes();    // 512 x 4

// ksigns_iq2xs: 7 sign bits plus an 8th that makes the count of set bits even.
inline uint8_t even_parity_signs(int i) noexcept {
  return static_cast<uint8_t>(i | ((__builtin_popcount(static_cast<unsigned>(i)) & 1) << 7));
}

}  // namespace libquant::gguf
