// .littlebit factor blocks and checksums (layout in io/littlebit_file.hpp).

#include <algorithm>
#include <cmath>
#include <cstring>

#include "libquant/core/crc32.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "libquant/io/littlebit_file.hpp"

namespace libquant::io {
namespace {
uint64_t align(uint64_t x) { return (x + kLittleBitAlignment - 1) / kLittleBitAlignment * kLittleBitAlignment; }

void put_scales(std::byte* dst, const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  f32_to_f16(v.data(), h.data(), v.size());
  std::memcpy(dst, h.data(), h.size() * 2);
}

std::vector<float> get_scales(const std::byte* src, int64_t n, const char* what) {
  std::vector<uint16_t> h(static_cast<size_t>(n));
  std::memcpy(h.data(), src, h.size() * 2);
  std::vector<float> v(h.size());
  f16_to_f32(h.data(), v.data(), v.size());
  for (float x : v)
    check(std::isfinite(x), ErrorCode::ValidationFailed, std::string("littlebit block: non-finite ") + what + " scale");
  return v;
}

cpu::PackedSigns get_signs(const std::byte* src, int64_t rows, int64_t cols, const char* what) {
  cpu::PackedSigns s(rows, cols);
  std::memcpy(s.data(), src, s.nbytes());
  // Padding past the last column is +1 (clear) by definition; a set bit there is corruption.
  if (cols % 64) {
    const uint64_t pad = ~((uint64_t{1} << (cols % 64)) - 1);
    for (int64_t r = 0; r < rows; ++r)
      check((s.data()[r * s.words_per_row() + s.words_per_row() - 1] & pad) == 0, ErrorCode::ValidationFailed,
            std::string("littlebit block: padding bits set in ") + what + " signs");
  }
  return s;
}
}  // namespace

LittleBitBlockLayout littlebit_block_layout(int64_t out, int64_t in, int64_t rank, int paths) {
  // Public entry point: bound the dimensions so no size below can wrap
  // (the index parser allows at most 2^40 elements per tensor).
  constexpr int64_t kMax = int64_t{1} << 40;
  check(out > 0 && in > 0 && rank > 0 && out <= kMax && in <= kMax && rank <= std::min(out, in) &&
            (paths == 1 || paths == 2),
        ErrorCode::ValidationFailed,
        "littlebit factors of " + std::to_string(out) + " x " + std::to_string(in) + " at rank " +
            std::to_string(rank) + " with " + std::to_string(paths) + " paths are not a valid layout");
  check(static_cast<uint64_t>(out) * static_cast<uint64_t>(in) <= static_cast<uint64_t>(kMax),
        ErrorCode::ValidationFailed, "littlebit factors describe more than 2^40 weights");
  LittleBitBlockLayout L;
  uint64_t at = 0;
  for (int p = 0; p < paths; ++p) {
    LittleBitBlockLayout::Part part{};
    part.u = at;
    at = align(at + static_cast<uint64_t>(out * cpu::PackedSigns::words_per_row(rank)) * 8);
    part.v = at;
    at = align(at + static_cast<uint64_t>(rank * cpu::PackedSigns::words_per_row(in)) * 8);
    part.h = at;
    at = align(at + static_cast<uint64_t>(out) * 2);
    part.l = at;
    at = align(at + static_cast<uint64_t>(rank) * 2);
    part.g = at;
    at = align(at + static_cast<uint64_t>(in) * 2);
    L.paths.push_back(part);
  }
  L.size = at;
  return L;
}

std::vector<std::byte> encode_factors(const cpu::LittleBitFactors& f) {
  const LittleBitBlockLayout L = littlebit_block_layout(f.out, f.in, f.rank, f.path_count());
  std::vector<std::byte> b(L.size, std::byte{0});
  for (size_t p = 0; p < f.paths.size(); ++p) {
    const auto& P = f.paths[p];
    const auto& at = L.paths[p];
    std::memcpy(b.data() + at.u, P.u.data(), P.u.nbytes());
    std::memcpy(b.data() + at.v, P.v.data(), P.v.nbytes());
    put_scales(b.data() + at.h, P.h);
    put_scales(b.data() + at.l, P.l);
    put_scales(b.data() + at.g, P.g);
  }
  return b;
}

cpu::LittleBitFactors decode_factors(std::span<const std::byte> block, int64_t out, int64_t in, int64_t rank,
                                     int paths) {
  const LittleBitBlockLayout L = littlebit_block_layout(out, in, rank, paths);
  check(block.size() == L.size, ErrorCode::ValidationFailed,
        "littlebit block has " + std::to_string(block.size()) + " bytes, its shape needs " + std::to_string(L.size));
  cpu::LittleBitFactors f;
  f.out = out;
  f.in = in;
  f.rank = rank;
  for (const auto& at : L.paths) {
    cpu::LittleBitPath P;
    P.u = get_signs(block.data() + at.u, out, rank, "U");
    P.v = get_signs(block.data() + at.v, rank, in, "V");
    P.h = get_scales(block.data() + at.h, out, "h");
    P.l = get_scales(block.data() + at.l, rank, "l");
    P.g = get_scales(block.data() + at.g, in, "g");
    f.paths.push_back(std::move(P));
  }
  return f;
}

uint32_t crc32(std::span<const std::byte> data, uint32_t crc) noexcept { return crc32_update(crc, data); }

}  // namespace libquant::io
