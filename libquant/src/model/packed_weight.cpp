#include "packed_weight.hpp"

#include <cstring>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "libquant/core/finite.hpp"

namespace libquant::model {

[[noreturn]] void invalid_packed(const std::string& tensor, const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid packed weight '" + tensor + "': " + what,
              "The checkpoint is corrupt or written by an incompatible tool; re-export it");
}

const io::SafetensorsCheckpoint::Located& require_tensor(const io::SafetensorsCheckpoint& ckpt,
                                                         const std::string& name) {
  const auto* loc = ckpt.find(name);
  if (!loc) invalid_packed(name, "missing");
  return *loc;
}

std::vector<std::byte> read_whole(const io::SafetensorsCheckpoint::Located& loc) {
  std::vector<std::byte> raw(loc.entry->end - loc.entry->begin);
  loc.file->read(*loc.entry, 0, raw);
  return raw;
}

float round_to_dtype(float v, DType dt) noexcept {
  return dt == DType::F32 ? v : dt == DType::F16 ? f16_to_f32(f32_to_f16(v)) : bf16_to_f32(f32_to_bf16(v));
}

std::vector<float> read_float_table(const io::SafetensorsCheckpoint::Located& loc) {
  const DType dt = loc.entry->dtype;
  if (dt != DType::F32 && dt != DType::F16 && dt != DType::BF16)
    invalid_packed(loc.entry->name, "scales are not f32/f16/bf16");
  const auto raw = read_whole(loc);
  const auto n = static_cast<size_t>(loc.entry->shape.numel());
  std::vector<float> out(n);
  if (dt == DType::F32)
    std::memcpy(out.data(), raw.data(), n * 4);
  else if (dt == DType::F16)
    f16_to_f32(reinterpret_cast<const uint16_t*>(raw.data()), out.data(), n);
  else
    bf16_to_f32(reinterpret_cast<const uint16_t*>(raw.data()), out.data(), n);
  require_finite("tensor '" + loc.entry->name + "'", out.data(), n);
  return out;
}

namespace {

int64_t words_for(int64_t n, int bits) { return (n * bits + 31) / 32; }

}  // namespace

int64_t packed_words(int64_t n, int bits) { return words_for(n, bits); }

void pack_values(const int8_t* values, int64_t n, int bits, int32_t* words) {
  const uint32_t mask = (1u << bits) - 1, offset = 1u << (bits - 1);
  std::vector<uint32_t> out(static_cast<size_t>(words_for(n, bits)), 0u);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t v = (static_cast<uint32_t>(static_cast<int32_t>(values[i]) + static_cast<int32_t>(offset))) & mask;
    const int64_t bit = i * bits, w = bit / 32, shift = bit % 32;
    out[static_cast<size_t>(w)] |= static_cast<uint32_t>(v << shift);
    if (shift + bits > 32) out[static_cast<size_t>(w + 1)] |= static_cast<uint32_t>(v >> (32 - shift));
  }
  std::memcpy(words, out.data(), out.size() * 4);
}

void unpack_values(const int32_t* words, int64_t n, int bits, int8_t* out) {
  const uint32_t mask = (1u << bits) - 1, offset = 1u << (bits - 1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bit = i * bits, w = bit / 32, shift = bit % 32;
    uint64_t v = static_cast<uint32_t>(words[w]) >> shift;
    if (shift + bits > 32) v |= static_cast<uint64_t>(static_cast<uint32_t>(words[w + 1])) << (32 - shift);
    out[i] = static_cast<int8_t>(static_cast<int32_t>(v & mask) - static_cast<int32_t>(offset));
  }
}

bool PackedWeight::is_part(const std::string& n) noexcept {
  for (const char* s : {".weight_packed", ".weight_shape", ".weight_scale", ".weight_zero_point"})
    if (n.ends_with(s)) return true;
  return false;
}

PackedWeight::PackedWeight(const io::SafetensorsCheckpoint& ckpt, const std::string& module, int num_bits)
    : bits_(num_bits) {
  const std::string pn = module + ".weight_packed", sn = module + ".weight_scale", shn = module + ".weight_shape";
  if (bits_ != 2 && bits_ != 3 && bits_ != 4 && bits_ != 8)
    invalid_packed(pn, std::to_string(bits_) + "-bit values (2, 3, 4, 8)");
  packed_ = require_tensor(ckpt, pn);
  scale_ = require_tensor(ckpt, sn);
  const auto& shape = require_tensor(ckpt, shn);
  if ((shape.entry->dtype != DType::I64 && shape.entry->dtype != DType::I32) || shape.entry->shape.numel() != 2)
    invalid_packed(shn, "not two integers");
  const auto raw = read_whole(shape);
  int64_t dims[2];
  for (size_t i = 0; i < 2; ++i) {
    if (shape.entry->dtype == DType::I64)
      std::memcpy(&dims[i], raw.data() + 8 * i, 8);
    else {
      int32_t d;
      std::memcpy(&d, raw.data() + 4 * i, 4);
      dims[i] = d;
    }
  }
  rows_ = dims[0], cols_ = dims[1];
  if (rows_ <= 0 || cols_ <= 0 || rows_ > (int64_t{1} << 26) || cols_ > (int64_t{1} << 26))
    invalid_packed(shn, "shape " + std::to_string(rows_) + " x " + std::to_string(cols_));
  words_per_row_ = words_for(cols_, bits_);
  const Shape& ps = packed_.entry->shape;
  if (packed_.entry->dtype != DType::I32 || ps.rank() != 2 || ps[0] != rows_ || ps[1] != words_per_row_)
    invalid_packed(pn, "shape " + ps.to_string() + " for " + std::to_string(rows_) + " x " + std::to_string(cols_) +
                           " values of " + std::to_string(bits_) + " bits (int32 [" + std::to_string(rows_) + ", " +
                           std::to_string(words_per_row_) + "] expected)");
  const Shape& ss = scale_.entry->shape;
  const DType sd = scale_.entry->dtype;
  if ((sd != DType::F32 && sd != DType::F16 && sd != DType::BF16) || ss.rank() != 2 || ss[0] != rows_ || ss[1] <= 0 ||
      cols_ % ss[1] != 0)
    invalid_packed(sn, "shape " + ss.to_string() + " does not give whole groups of the " + std::to_string(cols_) +
                           " columns that '" + shn + "' gives");
  groups_ = ss[1];
  if (const auto* zp = ckpt.find(module + ".weight_zero_point")) {
    const Shape& zs = zp->entry->shape;
    if (zp->entry->dtype != DType::I32 || zs.rank() != 2 || zs[0] != words_for(rows_, bits_) || zs[1] != groups_)
      invalid_packed(module + ".weight_zero_point",
                     "shape " + zs.to_string() + " (int32 packed along the rows expected)");
    const auto zraw = read_whole(*zp);
    std::vector<int32_t> words(static_cast<size_t>(zs.numel())), column(static_cast<size_t>(zs[0]));
    std::memcpy(words.data(), zraw.data(), words.size() * 4);
    zero_.resize(static_cast<size_t>(rows_ * groups_));
    std::vector<int8_t> values(static_cast<size_t>(rows_));
    for (int64_t g = 0; g < groups_; ++g) {  // each group's column is one packed stream over the rows
      for (int64_t w = 0; w < zs[0]; ++w) column[static_cast<size_t>(w)] = words[static_cast<size_t>(w * groups_ + g)];
      unpack_values(column.data(), rows_, bits_, values.data());
      for (int64_t r = 0; r < rows_; ++r) zero_[static_cast<size_t>(r * groups_ + g)] = values[static_cast<size_t>(r)];
    }
  }
}

void PackedWeight::decode_row(int64_t r, float* out, Buffers& scratch) const {
  std::vector<int32_t>& words = scratch.words;
  words.resize(static_cast<size_t>(words_per_row_));
  packed_.file->read(*packed_.entry, static_cast<uint64_t>(r * words_per_row_) * 4,
                     {reinterpret_cast<std::byte*>(words.data()), words.size() * 4});
  std::vector<int8_t>& q = scratch.values;
  q.resize(static_cast<size_t>(cols_));
  unpack_values(words.data(), cols_, bits_, q.data());
  const DType sd = scale_.entry->dtype;
  const size_t width = sd == DType::F32 ? 4 : 2;
  std::vector<std::byte>& sraw = scratch.scales;
  sraw.resize(static_cast<size_t>(groups_) * width);
  scale_.file->read(*scale_.entry, static_cast<uint64_t>(r * groups_) * width, sraw);
  const int64_t group = cols_ / groups_;
  for (int64_t g = 0; g < groups_; ++g) {
    float s;
    uint16_t h;
    if (sd == DType::F32)
      std::memcpy(&s, sraw.data() + 4 * g, 4);
    else
      std::memcpy(&h, sraw.data() + 2 * g, 2), s = sd == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
    const int zero = zero_.empty() ? 0 : zero_[static_cast<size_t>(r * groups_ + g)];
    for (int64_t c = g * group; c < (g + 1) * group; ++c) {
      const float v = static_cast<float>(q[static_cast<size_t>(c)] - zero) * s;  // in the scale's dtype, as the package
      out[c] = round_to_dtype(v, sd);
    }
  }
}

}  // namespace libquant::model
