#include "linear_weight.hpp"

#include <cstring>

#include "../cpu/ops.hpp"
#include "libquant/backend/backend.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/cpu/int8_gemm.hpp"
#include "libquant/model/littlebit_source.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::eval {

const model::SourceTensor& require_tensor(const model::TensorSource& src, const std::string& gguf_name) {
  const model::SourceTensor* t = src.find(gguf_name);
  if (!t) throw Error(ErrorCode::ValidationFailed, "model has no tensor '" + gguf_name + "'");
  return *t;
}

namespace {

// The W8A8 scheme of a GGUF-named weight, when the checkpoint has one.
const io::CtScheme* w8a8_scheme(const io::CompressedTensorsConfig* qc, const std::string& gguf_name) {
  if (!qc) return nullptr;
  const auto hf = model::gguf_to_hf_name(gguf_name);
  if (!hf || hf->size() <= 7) return nullptr;
  const io::CtScheme* s = io::scheme_for(*qc, std::string_view(*hf).substr(0, hf->size() - 7));  // drop ".weight"
  return s && io::is_runnable_w8a8(*s) ? s : nullptr;
}
}  // namespace

LinearWeight load_linear(const model::TensorSource& src, const std::string& gguf_name, const LinearLoad& how) {
  const model::SourceTensor& t = require_tensor(src, gguf_name);
  LinearWeight lw;
  lw.out = static_cast<int64_t>(t.shape.rows());
  lw.in = static_cast<int64_t>(t.shape.numel()) / std::max<int64_t>(lw.out, 1);
  const std::string stem = gguf_name.substr(0, gguf_name.size() - 7);
  if (!(how.transform && *how.transform) && !how.simulate_w8a8)
    if (auto f = model::littlebit_factors(src, gguf_name)) {
      check(f->out == lw.out && f->in == lw.in, ErrorCode::ValidationFailed,
            "factors of '" + gguf_name + "' are " + std::to_string(f->out) + " x " + std::to_string(f->in) +
                ", the tensor is " + t.shape.to_string());
      f->validate();
      lw.factors = std::move(f);
      return lw;
    }
  const io::CtScheme* scheme = t.dtype == DType::I8 ? w8a8_scheme(how.quant, gguf_name) : nullptr;
  if (!scheme) {
    lw.w = src.read_f32(t);
    src.release(t);
    if (how.transform && *how.transform) lw.w = (*how.transform)(t, std::move(lw.w));
    if (how.simulate_w8a8) {
      lw.q.resize(static_cast<size_t>(lw.out * lw.in));
      lw.scale.resize(static_cast<size_t>(lw.out));
      cpu::quantize_rows_int8(lw.w.data_as<float>(), lw.out, lw.in, lw.q.data(), lw.scale.data());
      lw.w = Tensor();
    }
    return lw;
  }
  const model::SourceTensor& sc = require_tensor(src, stem + ".weight_scale");
  check(sc.shape.numel() == static_cast<uint64_t>(lw.out), ErrorCode::ValidationFailed,
        "'" + sc.name + "' does not hold one scale per output channel");
  Tensor raw = src.read_raw(t);
  lw.q.resize(static_cast<size_t>(lw.out * lw.in));
  std::memcpy(lw.q.data(), raw.data(), lw.q.size());
  Tensor s = src.read_f32(sc);
  lw.scale.assign(s.data_as<float>(), s.data_as<float>() + lw.out);
  if (!scheme->input_activations->dynamic) {
    const model::SourceTensor& is = require_tensor(src, stem + ".input_scale");
    lw.input_scale = src.read_f32(is).data_as<float>()[0];
    check(lw.input_scale > 0, ErrorCode::ValidationFailed, "'" + is.name + "' is not positive");
  }
  src.release(t);
  return lw;
}

void apply_linear(const LinearWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  backend::Backend& be = backend::active();
  if (w.factors) {
    if (be.is_gpu())
      w.factors->apply_with(x, n, y, [&](const cpu::SignMatrixView& s, const float* a, int64_t t, float* b) {
        be.sign_gemm(s, a, t, b);
      });
    else
      w.factors->apply(x, n, y, &pool);
    if (bias)
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < w.out; ++c) y[r * w.out + c] += bias[c];
    return;
  }
  if (!w.is_int8()) {
    be.gemm_f32(false, true, n, w.out, w.in, 1.0f, x, w.in, w.w.data_as<float>(), w.in, 0.0f, y, w.out);
    if (bias)
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < w.out; ++c) y[r * w.out + c] += bias[c];
    return;
  }
  std::vector<int8_t> qx(static_cast<size_t>(n * w.in));
  std::vector<float> sx(static_cast<size_t>(n), w.input_scale);
  if (w.input_scale > 0)
    cpu::quantize_tensor_int8(x, n * w.in, w.input_scale, qx.data());
  else
    cpu::quantize_rows_int8(x, n, w.in, qx.data(), sx.data());
  std::vector<int32_t> acc(static_cast<size_t>(n * w.out));
  if (be.is_gpu())
    be.gemm_i8_nt(n, w.out, w.in, qx.data(), w.q.data(), acc.data());
  else
    cpu::gemm_s8s8s32(qx.data(), w.q.data(), acc.data(), n, w.out, w.in, &pool);  // threaded on the engine's pool
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < w.out; ++c) {
      const float v = static_cast<float>(acc[r * w.out + c]) * (sx[r] * w.scale[c]);
      y[r * w.out + c] = bias ? v + bias[c] : v;
    }
}

}  // namespace libquant::eval
