#include "gptq_awq_weight.hpp"

#include <cstring>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"

namespace libquant::model {

namespace {

constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};   // nibble k of a word holds output 8c + kAwqOrder[k]
constexpr int kAwqNibble[8] = {0, 4, 1, 5, 2, 6, 3, 7};  // the inverse: output 8c + j sits in nibble kAwqNibble[j]

// The 4-bit value of output `r` in the word holding outputs 8(r/8) .. 8(r/8)+7.
int awq_value(int32_t word, int64_t r) {
  return static_cast<int>((static_cast<uint32_t>(word) >> (4 * kAwqNibble[r % 8])) & 15u);
}

// Unsigned `bits`-wide fields, LSB first, through pack_values' signed interface.
void pack_fields(const std::vector<int>& fields, int bits, int32_t* words) {
  std::vector<int8_t> v(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) v[i] = static_cast<int8_t>(fields[i] - (1 << (bits - 1)));
  pack_values(v.data(), static_cast<int64_t>(v.size()), bits, words);
}

std::vector<std::byte> f16_table(const IntLinear& w) {  // [groups, rows] from [rows, groups]
  std::vector<uint16_t> s(static_cast<size_t>(w.groups * w.rows));
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t g = 0; g < w.groups; ++g)
      s[static_cast<size_t>(g * w.rows + r)] = f32_to_f16(w.scales[r * w.groups + g]);
  return bytes_of(s);
}

int unsigned_zero(const IntLinear& w, int64_t r, int64_t g) {
  return (w.zeros ? w.zeros[r * w.groups + g] : 0) + (1 << (w.bits - 1));
}

void require_fit(const IntLinear& w, io::IntCheckpointLayout layout) {
  const std::string why = layout_misfit(layout, w.rows, w.cols, w.bits, w.groups > 0 ? w.cols / w.groups : w.cols);
  check(why.empty(), ErrorCode::InvalidArgument, why);
}

}  // namespace

std::string layout_misfit(io::IntCheckpointLayout layout, int64_t rows, int64_t cols, int bits, int64_t group_size) {
  const std::string shape = std::to_string(rows) + " x " + std::to_string(cols);
  if (layout == io::IntCheckpointLayout::AwqGemm) {
    if (bits != 4) return "AutoAWQ's GEMM layout holds 4-bit values only";
    if (rows % 8 != 0) return "AutoAWQ's layout needs outputs in multiples of 8 (" + shape + ")";
    if (group_size <= 0) return "AutoAWQ's layout needs groups (a positive group size)";
    return "";
  }
  if ((cols * bits) % 32 != 0 || (rows * bits) % 32 != 0)
    return "GPTQ's layout needs inputs and outputs times " + std::to_string(bits) + " bits in whole 32-bit words (" +
           shape + ")";
  return "";
}

std::vector<LayoutTensor> pack_gptq(const IntLinear& w, bool zeros_minus_one) {
  require_fit(w, io::IntCheckpointLayout::Gptq);
  const int64_t in_words = w.cols * w.bits / 32, out_words = w.rows * w.bits / 32;
  std::vector<int32_t> qweight(static_cast<size_t>(in_words * w.rows)), row(static_cast<size_t>(in_words));
  for (int64_t r = 0; r < w.rows; ++r) {  // our signed values with pack_values' offset are GPTQ's unsigned ones
    pack_values(w.q + r * w.cols, w.cols, w.bits, row.data());
    for (int64_t k = 0; k < in_words; ++k) qweight[static_cast<size_t>(k * w.rows + r)] = row[static_cast<size_t>(k)];
  }
  const int mask = (1 << w.bits) - 1;
  std::vector<int32_t> qzeros(static_cast<size_t>(w.groups * out_words));
  std::vector<int> fields(static_cast<size_t>(w.rows));
  for (int64_t g = 0; g < w.groups; ++g) {
    for (int64_t r = 0; r < w.rows; ++r)
      fields[static_cast<size_t>(r)] = (unsigned_zero(w, r, g) - (zeros_minus_one ? 1 : 0)) & mask;
    pack_fields(fields, w.bits, qzeros.data() + g * out_words);
  }
  std::vector<int32_t> g_idx(static_cast<size_t>(w.cols));
  for (int64_t c = 0; c < w.cols; ++c) g_idx[static_cast<size_t>(c)] = static_cast<int32_t>(c / (w.cols / w.groups));
  std::vector<LayoutTensor> out;
  out.push_back({".qweight", DType::I32, Shape({in_words, w.rows}), bytes_of(qweight)});
  out.push_back({".qzeros", DType::I32, Shape({w.groups, out_words}), bytes_of(qzeros)});
  out.push_back({".scales", DType::F16, Shape({w.groups, w.rows}), f16_table(w)});
  out.push_back({".g_idx", DType::I32, Shape({w.cols}), bytes_of(g_idx)});
  return out;
}

std::vector<LayoutTensor> pack_awq(const IntLinear& w) {
  require_fit(w, io::IntCheckpointLayout::AwqGemm);
  const int64_t words = w.rows / 8;
  auto pack8 = [&](auto&& value_of, int64_t row_of_table, int32_t* dst) {  // outputs 8c..8c+7 of one table row
    for (int64_t c = 0; c < words; ++c) {
      uint32_t word = 0;
      for (int k = 0; k < 8; ++k)
        word |= static_cast<uint32_t>(value_of(row_of_table, 8 * c + kAwqOrder[k]) & 15) << (4 * k);
      dst[c] = static_cast<int32_t>(word);
    }
  };
  std::vector<int32_t> qweight(static_cast<size_t>(w.cols * words)), qzeros(static_cast<size_t>(w.groups * words));
  for (int64_t i = 0; i < w.cols; ++i)
    pack8([&](int64_t in, int64_t r) { return w.q[r * w.cols + in] + 8; }, i, qweight.data() + i * words);
  for (int64_t g = 0; g < w.groups; ++g)
    pack8([&](int64_t gg, int64_t r) { return unsigned_zero(w, r, gg); }, g, qzeros.data() + g * words);
  std::vector<LayoutTensor> out;
  out.push_back({".qweight", DType::I32, Shape({w.cols, words}), bytes_of(qweight)});
  out.push_back({".qzeros", DType::I32, Shape({w.groups, words}), bytes_of(qzeros)});
  out.push_back({".scales", DType::F16, Shape({w.groups, w.rows}), f16_table(w)});
  return out;
}

bool GptqAwqWeight::is_part(const std::string& n) noexcept {
  for (const char* s : {".qweight", ".qzeros", ".scales", ".g_idx"})
    if (n.ends_with(s)) return true;
  return false;
}

GptqAwqWeight::GptqAwqWeight(const io::SafetensorsCheckpoint& ckpt, const std::string& module,
                             const io::GptqAwqConfig& config)
    : config_(config) {
  const bool awq = config.layout == io::IntCheckpointLayout::AwqGemm;
  const int bits = config.bits;
  const std::string qn = module + ".qweight", zn = module + ".qzeros", sn = module + ".scales", gn = module + ".g_idx";
  qweight_ = require_tensor(ckpt, qn);
  const auto& scales = require_tensor(ckpt, sn);
  const auto& qzeros = require_tensor(ckpt, zn);
  const Shape& qs = qweight_.entry->shape;
  if (qweight_.entry->dtype != DType::I32 || qs.rank() != 2 || qs[0] <= 0 || qs[1] <= 0 || qs[0] > (int64_t{1} << 26) ||
      qs[1] > (int64_t{1} << 26))
    invalid_packed(qn, "not a 2-D int32 tensor (shape " + qs.to_string() + ")");
  packed_rows_ = qs[0], packed_cols_ = qs[1];
  if (awq)
    rows_ = qs[1] * 8, cols_ = qs[0];
  else
    rows_ = qs[1], cols_ = qs[0] * 32 / bits;
  if (!awq && (qs[0] * 32) % bits != 0) invalid_packed(qn, std::to_string(qs[0]) + " words do not hold whole values");
  const Shape& ss = scales.entry->shape;
  if (ss.rank() != 2 || ss[1] != rows_ || ss[0] <= 0 || cols_ % ss[0] != 0)
    invalid_packed(sn, "shape " + ss.to_string() + " does not give whole groups of the " + std::to_string(cols_) +
                           " inputs and " + std::to_string(rows_) + " outputs of '" + qn + "'");
  groups_ = ss[0];
  if (config.group_size > 0 && groups_ != cols_ / config.group_size && !(config.desc_act && !awq))
    invalid_packed(sn, std::to_string(groups_) + " groups, not " + std::to_string(cols_) + " / group_size " +
                           std::to_string(config.group_size));
  scale_dtype_ = scales.entry->dtype;
  scales_ = read_float_table(scales);

  const Shape& zs = qzeros.entry->shape;
  const int64_t zero_words = awq ? rows_ / 8 : rows_ * bits / 32;
  if (qzeros.entry->dtype != DType::I32 || zs.rank() != 2 || zs[0] != groups_ || zs[1] != zero_words ||
      (!awq && (rows_ * bits) % 32 != 0))
    invalid_packed(zn, "shape " + zs.to_string() + " (int32 [" + std::to_string(groups_) + ", " +
                           std::to_string(zero_words) + "] expected)");
  const auto zraw = read_whole(qzeros);
  std::vector<int32_t> zw(static_cast<size_t>(zs.numel()));
  std::memcpy(zw.data(), zraw.data(), zw.size() * 4);
  zeros_.resize(static_cast<size_t>(groups_ * rows_));
  const int mask = (1 << bits) - 1, offset = 1 << (bits - 1);
  std::vector<int8_t> values(static_cast<size_t>(rows_));
  for (int64_t g = 0; g < groups_; ++g) {
    const int32_t* words = zw.data() + g * zero_words;
    if (awq) {
      for (int64_t r = 0; r < rows_; ++r)
        zeros_[static_cast<size_t>(g * rows_ + r)] = static_cast<int16_t>(awq_value(words[r / 8], r));
      continue;
    }
    unpack_values(words, rows_, bits, values.data());
    for (int64_t r = 0; r < rows_; ++r) {
      const int field = values[static_cast<size_t>(r)] + offset;
      zeros_[static_cast<size_t>(g * rows_ + r)] =
          static_cast<int16_t>(config.zeros_minus_one ? (field + 1) & mask : field);
    }
  }

  g_idx_.resize(static_cast<size_t>(cols_));
  const int64_t group = cols_ / groups_;
  for (int64_t c = 0; c < cols_; ++c) g_idx_[static_cast<size_t>(c)] = static_cast<int32_t>(c / group);
  if (const auto* gi = awq ? nullptr : ckpt.find(gn)) {
    if (gi->entry->dtype != DType::I32 || gi->entry->shape.numel() != static_cast<uint64_t>(cols_))
      invalid_packed(gn, "not int32 [" + std::to_string(cols_) + "] (shape " + gi->entry->shape.to_string() + ")");
    const auto raw = read_whole(*gi);
    std::memcpy(g_idx_.data(), raw.data(), g_idx_.size() * 4);
    for (int64_t c = 0; c < cols_; ++c)
      if (g_idx_[static_cast<size_t>(c)] < 0 || g_idx_[static_cast<size_t>(c)] >= groups_)
        invalid_packed(gn, "input " + std::to_string(c) + " is in group " +
                               std::to_string(g_idx_[static_cast<size_t>(c)]) + " of " + std::to_string(groups_));
  }
}

void GptqAwqWeight::decode_row(int64_t r, float* out, Buffers& scratch) const {
  if (scratch.all_words_of != this) {  // the rows are spread over the whole packed tensor: read it once
    scratch.all_words.resize(static_cast<size_t>(packed_rows_ * packed_cols_));
    qweight_.file->read(*qweight_.entry, 0,
                        {reinterpret_cast<std::byte*>(scratch.all_words.data()), scratch.all_words.size() * 4});
    scratch.all_words_of = this;
  }
  const int32_t* words = scratch.all_words.data();
  // Signed values q - 2^(bits-1), as unpack_values gives them.
  std::vector<int8_t>& q = scratch.values;
  q.resize(static_cast<size_t>(cols_));
  if (config_.layout == io::IntCheckpointLayout::AwqGemm) {
    for (int64_t i = 0; i < cols_; ++i)
      q[static_cast<size_t>(i)] = static_cast<int8_t>(awq_value(words[i * packed_cols_ + r / 8], r) - 8);
  } else {
    std::vector<int32_t>& column = scratch.words;
    column.resize(static_cast<size_t>(packed_rows_));
    for (int64_t k = 0; k < packed_rows_; ++k) column[static_cast<size_t>(k)] = words[k * packed_cols_ + r];
    unpack_values(column.data(), cols_, config_.bits, q.data());
  }
  const int offset = 1 << (config_.bits - 1);
  for (int64_t c = 0; c < cols_; ++c) {
    const auto g =
        static_cast<size_t>(g_idx_[static_cast<size_t>(c)]) * static_cast<size_t>(rows_) + static_cast<size_t>(r);
    const int value = q[static_cast<size_t>(c)] + offset;
    out[c] = round_to_dtype(static_cast<float>(value - zeros_[g]) * scales_[g], scale_dtype_);
  }
}

}  // namespace libquant::model
