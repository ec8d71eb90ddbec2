#include "libquant/gguf/row_codec.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "legacy_dequant.hpp"
#include "q8_0.hpp"

namespace libquant::gguf {

bool can_quantize(DType t) noexcept {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: return true;
    default: return false;
  }
}

bool can_dequantize(DType t) noexcept {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::F64:
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::IQ4_NL:
    case DType::I8: case DType::I16: case DType::I32: case DType::I64: case DType::U8:
    case DType::U16: case DType::U32: case DType::U64: case DType::F8_E4M3: case DType::F8_E5M2:
      return true;
    default: return false;
  }
}

void quantize_rows(DType t, const float* src, void* dst, int64_t n_rows, int64_t n_per_row, const float* importance) {
  const uint64_t rb = row_bytes(t, n_per_row);
  const size_t n = static_cast<size_t>(n_rows * n_per_row);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, n * sizeof(float)); return;
    case DType::F16: f32_to_f16(src, static_cast<uint16_t*>(dst), n); return;
    case DType::BF16: f32_to_bf16(src, static_cast<uint16_t*>(dst), n); return;
    case DType::Q8_0:  // Q8_0 ignores importance weights, as in llama.cpp
      for (int64_t r = 0; r < n_rows; ++r)
        quantize_row_q8_0_fast(src + r * n_per_row, static_cast<std::byte*>(dst) + r * rb, n_per_row);
      return;
    default:
      throw Error(ErrorCode::UnsupportedConversion, "quantizing to " + std::string(traits(t).name) + " is not supported yet");
  }
  (void)importance;
}

namespace {
template <typename T> void widen(const void* src, float* dst, int64_t n) {
  const T* s = static_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
}
}  // namespace

void dequantize(DType t, const void* src, float* dst, int64_t n) {
  const size_t un = static_cast<size_t>(n);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, un * sizeof(float)); return;
    case DType::F16: f16_to_f32(static_cast<const uint16_t*>(src), dst, un); return;
    case DType::BF16: bf16_to_f32(static_cast<const uint16_t*>(src), dst, un); return;
    case DType::Q8_0: dequantize_q8_0(src, dst, n); return;
    case DType::Q4_0: dequantize_q4_0(src, dst, n); return;
    case DType::Q4_1: dequantize_q4_1(src, dst, n); return;
    case DType::Q5_0: dequantize_q5_0(src, dst, n); return;
    case DType::Q5_1: dequantize_q5_1(src, dst, n); return;
    case DType::IQ4_NL: dequantize_iq4_nl(src, dst, n); return;
    case DType::F64: widen<double>(src, dst, n); return;
    case DType::I8: widen<int8_t>(src, dst, n); return;
    case DType::I16: widen<int16_t>(src, dst, n); return;
    case DType::I32: widen<int32_t>(src, dst, n); return;
    case DType::I64: widen<int64_t>(src, dst, n); return;
    case DType::U8: widen<uint8_t>(src, dst, n); return;
    case DType::U16: widen<uint16_t>(src, dst, n); return;
    case DType::U32: widen<uint32_t>(src, dst, n); return;
    case DType::U64: widen<uint64_t>(src, dst, n); return;
    case DType::F8_E4M3:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp8_e4m3_to_f32(static_cast<const uint8_t*>(src)[i]);
      return;
    case DType::F8_E5M2:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp8_e5m2_to_f32(static_cast<const uint8_t*>(src)[i]);
      return;
    default:
      throw Error(ErrorCode::UnsupportedConversion, "decoding " + std::string(traits(t).name) + " is not supported yet");
  }
}

}  // namespace libquant::gguf
