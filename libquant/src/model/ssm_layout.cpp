#include "ssm_layout.hpp"

namespace libquant::model {

Shape ssm_gguf_shape(const std::string& n, const Shape& hf, const ModelConfig& c, const ArchitectureInfo& arch) {
  if (n.ends_with(".ssm_conv1d.weight") && hf.rank() == 3 && hf[1] == 1) return Shape{hf[0], hf[2]};
  if (!arch.ssm) return hf;
  if ((n.ends_with(".ssm_a") || n.ends_with(".ssm_d")) && hf.rank() == 1) return Shape{hf[0], 1};
  if (n.ends_with(".ssm_norm.weight") && hf.rank() == 1 && c.ssm_groups > 0 && hf[0] % c.ssm_groups == 0)
    return Shape{c.ssm_groups, hf[0] / c.ssm_groups};
  return hf;  // anything else keeps its shape, and validation names it when it does not fit
}

HeadOrder head_order(const std::string& n, const Shape& shape, const ModelConfig& c, const ArchitectureInfo& arch) {
  HeadOrder o;
  const int64_t nk = c.ssm_groups, nv = c.ssm_heads;
  if (!arch.gated_delta_net || arch.grouped_value_heads || nk <= 0 || nv <= nk || nv % nk != 0 || c.ssm_heads <= 0)
    return o;
  o.key_heads = nk;
  o.per_key = nv / nk;
  const int64_t dv = c.ssm_inner_size / nv, qk = 2 * nk * c.ssm_state_size;
  using A = HeadOrder::Axis;
  if (n.ends_with(".attn_qkv.weight") || n.ends_with(".ssm_conv1d.weight"))
    o = {A::Rows, qk, dv, nk, nv / nk};
  else if (n.ends_with(".attn_gate.weight"))
    o = {A::Rows, 0, dv, nk, nv / nk};
  else if (n.ends_with(".ssm_alpha.weight") || n.ends_with(".ssm_beta.weight"))
    o = {A::Rows, 0, 1, nk, nv / nk};
  else if (n.ends_with(".ssm_a") || n.ends_with(".ssm_dt.bias"))
    o = {A::Elements, 0, 1, nk, nv / nk};
  else if (n.ends_with(".ssm_out.weight"))
    o = {A::Columns, 0, dv, nk, nv / nk};
  else
    return HeadOrder{};
  // A tensor whose reordered axis does not hold whole heads keeps its order; validation names its shape.
  const int64_t extent = o.axis == A::Columns    ? (shape.rank() == 2 ? shape[1] : 0)
                         : o.axis == A::Elements ? static_cast<int64_t>(shape.numel())
                                                 : (shape.rank() >= 1 ? shape[0] : 0);
  if (extent - o.first != nv * o.dim) return HeadOrder{};
  return o;
}

std::optional<std::pair<Shape, HeadOrder>> qkvz_part(const Shape& qkvz, const ModelConfig& c, bool z) {
  const int64_t nk = c.ssm_groups, nv = c.ssm_heads, dk = c.ssm_state_size;
  if (nk <= 0 || nv <= 0 || nv % nk != 0 || qkvz.rank() != 2) return std::nullopt;
  const int64_t width = c.ssm_inner_size / nk;  // value (and gate) rows per key head
  if (qkvz[0] != nk * (2 * dk + 2 * width)) return std::nullopt;
  HeadOrder o{z ? HeadOrder::Axis::ZOfQkvz : HeadOrder::Axis::QkvOfQkvz, 0, dk, nk, width};
  const int64_t rows = z ? nk * width : nk * (2 * dk + width);
  return std::make_pair(Shape{rows, qkvz[1]}, o);
}

}  // namespace libquant::model
