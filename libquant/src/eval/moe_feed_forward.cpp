#include "moe_feed_forward.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "../cpu/ops.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "hook_site.hpp"

namespace libquant::eval {

namespace {
constexpr const char* kStacks[3] = {"ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"};
}  // namespace

MoeWeights::MoeWeights(const model::TensorSource& src, const model::ModelConfig& cfg, int layer, const LinearLoad& how)
    : src_(src) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  for (int i = 0; i < 3; ++i) {
    const model::SourceTensor& t = require_tensor(src, p + kStacks[i]);
    // [experts, rows, cols]; a stack of one expert may be stored as [rows, cols] (llama-quantize writes
    // ggml_n_dims dimensions). Anything else is refused before a row is read.
    const Shape& s = t.shape;
    const bool stacked = s.rank() == 3 && s[0] == cfg.num_experts;
    check(stacked || (s.rank() == 2 && cfg.num_experts == 1), ErrorCode::ValidationFailed,
          "invalid model: tensor '" + t.name + "' has shape " + s.to_string() + ", not " +
              std::to_string(cfg.num_experts) + " stacked matrices");
    stacks_[i] = &t;
    rows_[i] = s[s.rank() - 2];
    cols_[i] = s[s.rank() - 1];
  }
  if (how.transform && *how.transform) transform_ = how.transform;
  experts_.resize(static_cast<size_t>(cfg.num_experts) * 3);
  const model::SourceTensor& r = require_tensor(src, p + "ffn_gate_inp.weight");
  router_ = src.read_f32(r);
  src.release(r);
  if (cfg.shared_expert_intermediate_size == 0) return;
  shared_gate_ = load_linear(src, p + "ffn_gate_shexp.weight", how);
  shared_up_ = load_linear(src, p + "ffn_up_shexp.weight", how);
  shared_down_ = load_linear(src, p + "ffn_down_shexp.weight", how);
  const model::SourceTensor& g = require_tensor(src, p + "ffn_gate_inp_shexp.weight");
  shared_gate_inp_ = src.read_f32(g);
  src.release(g);
}

const LinearWeight& MoeWeights::expert(int64_t e, int which) const {
  std::optional<LinearWeight>& slot = experts_.at(static_cast<size_t>(e) * 3 + static_cast<size_t>(which));
  if (slot) return *slot;
  const model::SourceTensor& t = *stacks_[which];
  const int64_t rows = rows_[which], cols = cols_[which];
  LinearWeight lw;
  lw.out = rows, lw.in = cols;
  lw.w = Tensor(DType::F32, Shape{rows, cols});
  float* w = lw.w.data_as<float>();
  const auto n = static_cast<size_t>(rows * cols);
  if (transform_) {  // the transform sees the whole stack, as it sees any other tensor
    if (!whole_[which]) {
      whole_[which] = (*transform_)(t, src_.read_f32(t));
      src_.release(t);
    }
    std::copy_n(whole_[which]->data_as<float>() + static_cast<size_t>(e) * n, n, w);
  } else {
    const uint64_t row_bytes = t.nbytes / t.shape.rows();
    std::vector<std::byte> raw(static_cast<size_t>(rows) * row_bytes);
    src_.read_rows(t, static_cast<uint64_t>(e * rows), static_cast<uint64_t>(rows), raw.data());
    gguf::dequantize(t.dtype, raw.data(), w, rows * cols);
    require_finite("tensor '" + t.name + "'", w, n, static_cast<uint64_t>(e) * n);
  }
  slot = std::move(lw);
  return *slot;
}

namespace {

struct Routing {
  std::vector<std::vector<int64_t>> tokens;  // per expert: the tokens it serves
  std::vector<std::vector<float>> weights;   // per expert: their router weights
};

// Softmax over all experts, the top k, renormalised when the family does (as transformers, in f32).
Routing route(const float* logits, int64_t N, int64_t E, int64_t k, bool renormalise) {
  Routing r;
  r.tokens.resize(static_cast<size_t>(E));
  r.weights.resize(static_cast<size_t>(E));
  std::vector<float> p(static_cast<size_t>(E));
  std::vector<int64_t> order(static_cast<size_t>(E));
  for (int64_t t = 0; t < N; ++t) {
    const float* z = logits + t * E;
    const float mx = *std::max_element(z, z + E);
    float sum = 0.0f;
    for (int64_t e = 0; e < E; ++e) sum += p[e] = std::exp(z[e] - mx);
    for (float& v : p) v /= sum;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    float kept = 0.0f;
    for (int64_t i = 0; i < k; ++i) kept += p[order[i]];
    for (int64_t i = 0; i < k; ++i) {
      const int64_t e = order[i];
      r.tokens[e].push_back(t);
      r.weights[e].push_back(renormalise ? p[e] / kept : p[e]);
    }
  }
  return r;
}

// SwiGLU of rows x[n, d] through gate / up / down into y[n, d]; the down
// projection's input is shown to the hook at `site` as `down`.
void swiglu(const LinearWeight& g, const LinearWeight& u, const LinearWeight& dn, const float* x, int64_t n, float* y,
            ThreadPool& pool, const HookSite& site, const char* down) {
  const int64_t ff = g.out;
  std::vector<float> a(static_cast<size_t>(n * ff)), b(a.size());
  apply_linear(g, x, n, nullptr, a.data(), pool);
  apply_linear(u, x, n, nullptr, b.data(), pool);
  cpu::silu_mul(a.data(), b.data(), a.data(), n * ff);
  site.input(down, a.data(), n, ff);
  apply_linear(dn, a.data(), n, nullptr, y, pool);
}

}  // namespace

void moe_feed_forward(const MoeWeights& w, const model::ModelConfig& cfg, int layer, const float* xn, int64_t N,
                      float* out, ThreadPool& pool, calib::LinearHook* hook) {
  const int64_t d = cfg.hidden_size, E = cfg.num_experts;
  std::vector<float> logits(static_cast<size_t>(N * E));
  const HookSite site{hook, layer};
  site.input("ffn_gate_inp.weight", xn, N, d);
  cpu::linear(xn, N, d, w.router().data_as<float>(), E, nullptr, logits.data());
  const Routing r = route(logits.data(), N, E, cfg.num_experts_used, cfg.expert_weights_norm);
  std::fill(out, out + N * d, 0.0f);
  std::vector<float> xs, ys;
  for (int64_t e = 0; e < E; ++e) {
    const auto& tokens = r.tokens[static_cast<size_t>(e)];
    if (tokens.empty()) continue;
    const auto n = static_cast<int64_t>(tokens.size());
    xs.resize(static_cast<size_t>(n * d));
    ys.resize(xs.size());
    for (int64_t i = 0; i < n; ++i) std::copy_n(xn + tokens[i] * d, d, xs.data() + i * d);
    const HookSite expert{hook, layer, static_cast<int>(e), static_cast<int>(E)};
    expert.input("ffn_gate_exps.weight", xs.data(), n, d);
    expert.input("ffn_up_exps.weight", xs.data(), n, d);
    swiglu(w.expert(e, 0), w.expert(e, 1), w.expert(e, 2), xs.data(), n, ys.data(), pool, expert,
           "ffn_down_exps.weight");
    const auto& wt = r.weights[static_cast<size_t>(e)];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) out[tokens[i] * d + j] += ys[i * d + j] * wt[i];
  }
  if (!w.has_shared()) return;
  site.input("ffn_gate_shexp.weight", xn, N, d);
  site.input("ffn_up_shexp.weight", xn, N, d);
  site.input("ffn_gate_inp_shexp.weight", xn, N, d);
  ys.resize(static_cast<size_t>(N * d));
  swiglu(w.shared(0), w.shared(1), w.shared(2), xn, N, ys.data(), pool, site, "ffn_down_shexp.weight");
  std::vector<float> gate(static_cast<size_t>(N));
  cpu::linear(xn, N, d, w.shared_gate_inp().data_as<float>(), 1, nullptr, gate.data());
  for (int64_t t = 0; t < N; ++t) {
    const float s = 1.0f / (1.0f + std::exp(-gate[t]));
    for (int64_t j = 0; j < d; ++j) out[t * d + j] += ys[t * d + j] * s;
  }
}

}  // namespace libquant::eval
