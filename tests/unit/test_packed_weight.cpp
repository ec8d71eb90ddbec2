// compressed-tensors' dense int32 packing, read back: values written here bit
// by bit into a little-endian stream (value i at bit i * bits, +2^(bits-1)),
// including the 3-bit case where values straddle two words.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "model/packed_weight.hpp"

using namespace libquant;

TEST_CASE("unpack_values reads every width of the dense int32 packing", "[packed]") {
  std::mt19937 rng(5);
  for (int bits : {2, 3, 4, 8}) {
    INFO("bits " << bits);
    const int64_t n = 77;  // not a whole number of words for any width
    const int lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
    std::uniform_int_distribution<int> pick(lo, hi);
    std::vector<int8_t> values(n);
    std::vector<uint32_t> words((n * bits + 31) / 32, 0);
    for (int64_t i = 0; i < n; ++i) {
      values[i] = static_cast<int8_t>(pick(rng));
      const auto stored = static_cast<uint32_t>(values[i] - lo);
      for (int b = 0; b < bits; ++b)
        if (stored >> b & 1u) words[(i * bits + b) / 32] |= 1u << ((i * bits + b) % 32);
    }
    std::vector<int8_t> back(n);
    model::unpack_values(reinterpret_cast<const int32_t*>(words.data()), n, bits, back.data());
    CHECK(back == values);
  }
}
