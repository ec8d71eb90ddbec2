#pragma once
// Internal entry points of the block codecs, one pair per ggml type. The
// quantizers take whole rows (`n_per_row` a multiple of the block size) and an
// optional per-column importance vector shared by every row, exactly like
// ggml's quantize_<type>(); null importance selects the reference path.
#include <cstdint>

namespace libquant::gguf {

using QuantizeFn = void (*)(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* importance);
using DequantizeFn = void (*)(const void* src, float* dst, int64_t n);

void quantize_q4_0(const float*, void*, int64_t, int64_t, const float*);
void quantize_q4_1(const float*, void*, int64_t, int64_t, const float*);
void quantize_q5_0(const float*, void*, int64_t, int64_t, const float*);
void quantize_q5_1(const float*, void*, int64_t, int64_t, const float*);
void quantize_q8_0(const float*, void*, int64_t, int64_t, const float*);
void quantize_q2_k(const float*, void*, int64_t, int64_t, const float*);
void quantize_q3_k(const float*, void*, int64_t, int64_t, const float*);
void quantize_q4_k(const float*, void*, int64_t, int64_t, const float*);
void quantize_q5_k(const float*, void*, int64_t, int64_t, const float*);
void quantize_q6_k(const float*, void*, int64_t, int64_t, const float*);
void quantize_q8_k(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq4_nl(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq4_xs(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq2_xxs(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq2_xs(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq2_s(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq1_s(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq1_m(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq3_xxs(const float*, void*, int64_t, int64_t, const float*);
void quantize_iq3_s(const float*, void*, int64_t, int64_t, const float*);
void quantize_tq1_0(const float*, void*, int64_t, int64_t, const float*);
void quantize_tq2_0(const float*, void*, int64_t, int64_t, const float*);
void quantize_mxfp4(const float*, void*, int64_t, int64_t, const float*);
void quantize_nvfp4(const float*, void*, int64_t, int64_t, const float*);
void quantize_q1_0(const float*, void*, int64_t, int64_t, const float*);
void quantize_q2_0(const float*, void*, int64_t, int64_t, const float*);

void dequantize_q2_k(const void*, float*, int64_t);
void dequantize_q3_k(const void*, float*, int64_t);
void dequantize_q4_k(const void*, float*, int64_t);
void dequantize_q5_k(const void*, float*, int64_t);
void dequantize_q6_k(const void*, float*, int64_t);
void dequantize_q8_k(const void*, float*, int64_t);
void dequantize_iq4_xs(const void*, float*, int64_t);
void dequantize_iq2_xxs(const void*, float*, int64_t);
void dequantize_iq2_xs(const void*, float*, int64_t);
void dequantize_iq2_s(const void*, float*, int64_t);
void dequantize_iq3_xxs(const void*, float*, int64_t);
void dequantize_iq3_s(const void*, float*, int64_t);
void dequantize_iq1_s(const void*, float*, int64_t);
void dequantize_iq1_m(const void*, float*, int64_t);
void dequantize_tq1_0(const void*, float*, int64_t);
void dequantize_tq2_0(const void*, float*, int64_t);
void dequantize_mxfp4(const void*, float*, int64_t);
void dequantize_nvfp4(const void*, float*, int64_t);
void dequantize_q1_0(const void*, float*, int64_t);
void dequantize_q2_0(const void*, float*, int64_t);

}  // namespace libquant::gguf
