#include "libquant/gguf/row_codec.hpp"

#include <cstring>
#include <string>

#include "block_codecs.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "legacy_dequant.hpp"
#include "q8_0.hpp"

namespace libquant::gguf {
namespace {

// Zero-element tensors exist (a dimension of 0): memcpy must not see their null buffers.
void quantize_f32(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  if (nrows * n_per_row > 0) std::memcpy(dst, src, static_cast<size_t>(nrows * n_per_row) * sizeof(float));
}
void quantize_f16(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  f32_to_f16(src, static_cast<uint16_t*>(dst), static_cast<size_t>(nrows * n_per_row));
}
void quantize_bf16(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  f32_to_bf16(src, static_cast<uint16_t*>(dst), static_cast<size_t>(nrows * n_per_row));
}
void dequantize_f32(const void* src, float* dst, int64_t n) {
  if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void dequantize_f16(const void* src, float* dst, int64_t n) {
  f16_to_f32(static_cast<const uint16_t*>(src), dst, static_cast<size_t>(n));
}
void dequantize_bf16(const void* src, float* dst, int64_t n) {
  bf16_to_f32(static_cast<const uint16_t*>(src), dst, static_cast<size_t>(n));
}

template <typename T>
void widen(const void* src, float* dst, int64_t n) {
  const T* s = static_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
}
void dequantize_e4m3(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp8_e4m3_to_f32(static_cast<const uint8_t*>(src)[i]);
}
void dequantize_e5m2(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp8_e5m2_to_f32(static_cast<const uint8_t*>(src)[i]);
}

struct Codec {
  DType type;
  QuantizeFn quantize;      // null: cannot encode
  DequantizeFn dequantize;  // null: cannot decode
};

// One row per type; the k- and i-quants with codebooks join as they land.
constexpr Codec kCodecs[] = {
    {DType::F32, quantize_f32, dequantize_f32},
    {DType::F16, quantize_f16, dequantize_f16},
    {DType::BF16, quantize_bf16, dequantize_bf16},
    {DType::Q4_0, quantize_q4_0, dequantize_q4_0},
    {DType::Q4_1, quantize_q4_1, dequantize_q4_1},
    {DType::Q5_0, quantize_q5_0, dequantize_q5_0},
    {DType::Q5_1, quantize_q5_1, dequantize_q5_1},
    {DType::Q8_0, quantize_q8_0, dequantize_q8_0},
    {DType::Q2_K, quantize_q2_k, dequantize_q2_k},
    {DType::Q3_K, quantize_q3_k, dequantize_q3_k},
    {DType::Q4_K, quantize_q4_k, dequantize_q4_k},
    {DType::Q5_K, quantize_q5_k, dequantize_q5_k},
    {DType::Q6_K, quantize_q6_k, dequantize_q6_k},
    {DType::Q8_K, quantize_q8_k, dequantize_q8_k},
    {DType::IQ4_NL, quantize_iq4_nl, dequantize_iq4_nl},
    {DType::IQ4_XS, quantize_iq4_xs, dequantize_iq4_xs},
    {DType::IQ2_XXS, quantize_iq2_xxs, dequantize_iq2_xxs},
    {DType::IQ2_XS, quantize_iq2_xs, dequantize_iq2_xs},
    {DType::IQ2_S, quantize_iq2_s, dequantize_iq2_s},
    {DType::IQ3_XXS, quantize_iq3_xxs, dequantize_iq3_xxs},
    {DType::IQ3_S, quantize_iq3_s, dequantize_iq3_s},
    {DType::IQ1_S, quantize_iq1_s, dequantize_iq1_s},
    {DType::IQ1_M, quantize_iq1_m, dequantize_iq1_m},
    {DType::TQ1_0, quantize_tq1_0, dequantize_tq1_0},
    {DType::TQ2_0, quantize_tq2_0, dequantize_tq2_0},
    {DType::MXFP4, quantize_mxfp4, dequantize_mxfp4},
    {DType::NVFP4, quantize_nvfp4, dequantize_nvfp4},
    {DType::Q1_0, quantize_q1_0, dequantize_q1_0},
    {DType::Q2_0, quantize_q2_0, dequantize_q2_0},
    {DType::F64, nullptr, widen<double>},
    {DType::I8, nullptr, widen<int8_t>},
    {DType::I16, nullptr, widen<int16_t>},
    {DType::I32, nullptr, widen<int32_t>},
    {DType::I64, nullptr, widen<int64_t>},
    {DType::U8, nullptr, widen<uint8_t>},
    {DType::U16, nullptr, widen<uint16_t>},
    {DType::U32, nullptr, widen<uint32_t>},
    {DType::U64, nullptr, widen<uint64_t>},
    {DType::F8_E4M3, nullptr, dequantize_e4m3},
    {DType::F8_E5M2, nullptr, dequantize_e5m2},
};

const Codec* find_codec(DType t) noexcept {
  for (const Codec& c : kCodecs)
    if (c.type == t) return &c;
  return nullptr;
}

}  // namespace

void quantize_q8_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  // Q8_0 ignores importance weights, as in llama.cpp.
  const uint64_t rb = row_bytes(DType::Q8_0, n_per_row);
  for (int64_t r = 0; r < nrows; ++r)
    quantize_row_q8_0_fast(src + r * n_per_row, static_cast<std::byte*>(dst) + r * rb, n_per_row);
}

bool can_quantize(DType t) noexcept {
  const Codec* c = find_codec(t);
  return c && c->quantize;
}

bool needs_importance(DType t) noexcept {
  return t == DType::IQ2_XXS || t == DType::IQ2_XS || t == DType::IQ2_S || t == DType::IQ1_S || t == DType::IQ1_M;
}

bool can_dequantize(DType t) noexcept {
  const Codec* c = find_codec(t);
  return c && c->dequantize;
}

void quantize_rows(DType t, const float* src, void* dst, int64_t n_rows, int64_t n_per_row, const float* importance) {
  const Codec* c = find_codec(t);
  if (!c || !c->quantize)
    throw Error(ErrorCode::UnsupportedConversion,
                "quantizing to " + std::string(traits(t).name) + " is not supported yet");
  if (n_per_row % traits(t).block_size != 0)
    throw Error(ErrorCode::InvalidArgument, "rows of " + std::to_string(n_per_row) + " elements do not divide into " +
                                                std::string(traits(t).name) + " blocks");
  c->quantize(src, dst, n_rows, n_per_row, importance);
}

void dequantize(DType t, const void* src, float* dst, int64_t n) {
  const Codec* c = find_codec(t);
  if (!c || !c->dequantize)
    throw Error(ErrorCode::UnsupportedConversion, "decoding " + std::string(traits(t).name) + " is not supported yet");
  c->dequantize(src, dst, n);
}

}  // namespace libquant::gguf
