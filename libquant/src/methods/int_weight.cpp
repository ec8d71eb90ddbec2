#include "libquant/methods/int_weight.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"

namespace libquant::methods {

namespace {

float round_to(float v, DType dt) noexcept {
  if (dt == DType::F16) return f16_to_f32(f32_to_f16(v));
  if (dt == DType::BF16) return bf16_to_f32(f32_to_bf16(v));
  return v;
}

// The smallest step of the dtype at 1 (torch.finfo(dtype).eps), what
// compressed-tensors puts in place of a zero scale.
float dtype_eps(DType dt) noexcept {
  if (dt == DType::F16) return 0.0009765625f;
  if (dt == DType::BF16) return 0.0078125f;
  return std::numeric_limits<float>::epsilon();
}

}  // namespace

void validate_scheme(const IntWeightScheme& s) {
  check(s.bits == 2 || s.bits == 3 || s.bits == 4 || s.bits == 8, ErrorCode::InvalidArgument,
        std::to_string(s.bits) + "-bit integer weights are not supported", "Use 2, 3, 4 or 8 bits");
  check(s.group_size == -1 || s.group_size > 0, ErrorCode::InvalidArgument,
        "group size " + std::to_string(s.group_size) + " is neither -1 (per channel) nor positive");
  check(s.scale_dtype == DType::F32 || s.scale_dtype == DType::F16 || s.scale_dtype == DType::BF16,
        ErrorCode::InvalidArgument, "scales must be stored as F32, F16 or BF16");
}

bool group_size_fits(const IntWeightScheme& s, int64_t cols) noexcept {
  return s.group_size == -1 || (s.group_size > 0 && cols % s.group_size == 0);
}

int64_t IntWeight::group_of(int64_t c) const noexcept {
  if (!g_idx.empty()) return g_idx[static_cast<size_t>(c)];
  return c / scheme.columns_per_group(cols);
}

void IntWeight::dequantize_row(int64_t r, float* out) const {
  const int64_t g = groups();
  for (int64_t c = 0; c < cols; ++c) {
    const size_t k = static_cast<size_t>(r * g + group_of(c));
    out[c] = dequantize_int(q[static_cast<size_t>(r * cols + c)], scales[k], zeros.empty() ? 0 : zeros[k],
                            scheme.scale_dtype);
  }
}

std::vector<float> IntWeight::dequantize() const {
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) dequantize_row(r, w.data() + r * cols);
  return w;
}

void int_qparams(const float* x, int64_t n, const IntWeightScheme& s, float& scale, int& zero) {
  float lo = 0, hi = 0;  // 0 is always representable
  for (int64_t i = 0; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  const float range = static_cast<float>(s.qmax() - s.qmin());
  if (s.symmetric) {
    scale = round_to(std::max(-lo, hi) / (range / 2), s.scale_dtype);
    zero = 0;
  } else {
    scale = round_to((hi - lo) / range, s.scale_dtype);
  }
  if (scale == 0) scale = dtype_eps(s.scale_dtype);
  if (!s.symmetric) {
    const float z = std::nearbyint(static_cast<float>(s.qmin()) - lo / scale);
    zero = static_cast<int>(std::clamp(z, static_cast<float>(s.qmin()), static_cast<float>(s.qmax())));
  }
}

int quantize_int(float w, float scale, int zero, const IntWeightScheme& s) noexcept {
  const float v = std::nearbyint(w / scale + static_cast<float>(zero));  // half to even, as torch.round
  return static_cast<int>(std::clamp(v, static_cast<float>(s.qmin()), static_cast<float>(s.qmax())));
}

float dequantize_int(int q, float scale, int zero, DType scale_dtype) noexcept {
  return round_to(static_cast<float>(q - zero) * scale, scale_dtype);
}

IntWeight rtn_quantize(const float* w, int64_t rows, int64_t cols, const IntWeightScheme& s) {
  validate_scheme(s);
  check(group_size_fits(s, cols), ErrorCode::InvalidArgument,
        "group size " + std::to_string(s.group_size) + " does not divide " + std::to_string(cols) + " columns");
  IntWeight out;
  out.rows = rows, out.cols = cols, out.scheme = s;
  const int64_t groups = s.groups(cols), gs = s.columns_per_group(cols);
  out.q.resize(static_cast<size_t>(rows * cols));
  out.scales.resize(static_cast<size_t>(rows * groups));
  if (!s.symmetric) out.zeros.resize(out.scales.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const float* x = w + r * cols + g * gs;
      float scale;
      int zero;
      int_qparams(x, gs, s, scale, zero);
      const size_t k = static_cast<size_t>(r * groups + g);
      out.scales[k] = scale;
      if (!s.symmetric) out.zeros[k] = static_cast<int8_t>(zero);
      for (int64_t c = 0; c < gs; ++c)
        out.q[static_cast<size_t>(r * cols + g * gs + c)] = static_cast<int8_t>(quantize_int(x[c], scale, zero, s));
    }
  return out;
}

}  // namespace libquant::methods
