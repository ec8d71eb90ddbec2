#pragma once
// compressed-tensors `pack-quantized` weights (W4A16 and friends, as
// llm-compressor writes them for GPTQ / AWQ / RTN): `M.weight_packed` int32
// words holding num_bits-wide values densely along each row (value i at bit
// i * num_bits of the row's stream, stored with +2^(bits-1)), `M.weight_scale`
// [rows, groups], `M.weight_shape` [2], and for asymmetric schemes
// `M.weight_zero_point` packed the same way along the rows. Decoded exactly as
// compressed-tensors does: (q - zero) * scale, rounded to the scale's dtype.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "libquant/io/safetensors.hpp"

namespace libquant::model {

// A linear weight stored as integers and scales, decoded row by row to f32
// (compressed-tensors pack-quantized here; GPTQ and AWQ in gptq_awq_weight.hpp).
class QuantizedLinearWeight {
 public:
  virtual ~QuantizedLinearWeight() = default;
  int64_t rows() const noexcept { return rows_; }
  int64_t cols() const noexcept { return cols_; }
  // Scratch space reused across rows (one per reader). Layouts packed across
  // rows keep the whole packed tensor here while one reader decodes it.
  struct Buffers {
    std::vector<int32_t> words;
    std::vector<int8_t> values;
    std::vector<std::byte> scales;
    std::vector<int32_t> all_words;
    const QuantizedLinearWeight* all_words_of = nullptr;
  };
  // Row r as f32 into out[cols()].
  virtual void decode_row(int64_t r, float* out, Buffers& scratch) const = 0;

 protected:
  int64_t rows_ = 0, cols_ = 0;
};

class PackedWeight final : public QuantizedLinearWeight {
 public:
  using Located = io::SafetensorsCheckpoint::Located;
  // `module` is the HF module name ("model.layers.0.self_attn.q_proj"); throws
  // Error(ValidationFailed) naming the tensor for any inconsistent shape or type.
  PackedWeight(const io::SafetensorsCheckpoint& ckpt, const std::string& module, int num_bits);
  void decode_row(int64_t r, float* out, Buffers& scratch) const override;
  // The tensors it is made of (not listed on their own).
  static bool is_part(const std::string& hf_name) noexcept;

 private:
  Located packed_{}, scale_{};
  int bits_ = 4;
  int64_t groups_ = 1, words_per_row_ = 0;
  std::vector<int8_t> zero_;  // [rows, groups] (empty: symmetric)
};

// Shared by the packed layouts' readers: Error(ValidationFailed) naming the
// tensor; a tensor that must exist; a whole tensor's bytes; v rounded to a
// float dtype as the reference dequantizers compute in it; a float table
// (f32/f16/bf16, checked finite) as f32.
[[noreturn]] void invalid_packed(const std::string& tensor, const std::string& what);
const io::SafetensorsCheckpoint::Located& require_tensor(const io::SafetensorsCheckpoint& ckpt,
                                                         const std::string& name);
std::vector<std::byte> read_whole(const io::SafetensorsCheckpoint::Located& loc);
float round_to_dtype(float v, DType dt) noexcept;
std::vector<float> read_float_table(const io::SafetensorsCheckpoint::Located& loc);

// A vector's bytes, and back (tensor payloads of packed layouts).
template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& v) {
  std::vector<std::byte> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}
template <typename T>
std::vector<T> values_of(const std::vector<std::byte>& b) {
  std::vector<T> out(b.size() / sizeof(T));
  std::memcpy(out.data(), b.data(), out.size() * sizeof(T));
  return out;
}

// n values of `bits` bits from a dense little-endian int32 stream, minus 2^(bits-1).
void unpack_values(const int32_t* words, int64_t n, int bits, int8_t* out);
// The inverse: n values in [-2^(bits-1), 2^(bits-1)) into words_for(n, bits) words.
void pack_values(const int8_t* values, int64_t n, int bits, int32_t* words);
int64_t packed_words(int64_t n, int bits);

}  // namespace libquant::model
