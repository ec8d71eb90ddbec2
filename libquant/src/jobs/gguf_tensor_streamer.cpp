#include "gguf_tensor_streamer.hpp"

#include <algorithm>

#include "libquant/backend/backend.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::jobs {

void TensorStreamer::run(const TensorPlan& p) {
  if (p.encoded) {
    write(*p.encoded);
    return;
  }
  const model::SourceTensor& t = *p.src;
  const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
  const auto n_per_row = static_cast<int64_t>(t.shape.rank() <= 1 ? t.shape.numel() : t.shape.row_length());
  const uint64_t src_rb = rows ? t.nbytes / rows : 0;
  const uint64_t out_rb = row_bytes(p.out, n_per_row);
  // ~1 MiB of f32 per chunk keeps buffers in cache; at least one row.
  const uint64_t chunk_rows = std::max<uint64_t>(1, (uint64_t{1} << 18) / std::max<int64_t>(1, n_per_row));
  const bool quantized_out = traits(p.out).is_quantized;
  for (uint64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
    const uint64_t n = std::min(chunk_rows, rows - r0);
    grow(raw_, n * src_rb);
    src_.read_rows(t, r0, n, raw_.data());
    grow(f32_, n * static_cast<uint64_t>(n_per_row));
    if (t.dtype == p.out) {
      // Copied as stored, but checked like every other weight.
      if (gguf::can_dequantize(t.dtype))
        pool_.parallel_for(static_cast<size_t>(n), 16, [&](size_t a, size_t b) {
          float* f = f32_.data() + a * static_cast<size_t>(n_per_row);
          gguf::dequantize(t.dtype, raw_.data() + a * src_rb, f, static_cast<int64_t>(b - a) * n_per_row);
          require_finite("tensor '" + t.name + "'", f, (b - a) * static_cast<size_t>(n_per_row),
                         (r0 + a) * static_cast<uint64_t>(n_per_row));
        });
      write({raw_.data(), n * src_rb});
      continue;
    }
    grow(enc_, n * out_rb);
    // Row-local codecs: a row's bytes never depend on which thread ran it.
    const size_t grain = quantized_out ? 1 : 16;
    // A GPU backend encodes the whole chunk when it has the type (bit-exact with the CPU codecs).
    backend::Backend& be = backend::active();
    const bool gpu = be.is_gpu() && !p.per_expert_importance();
    const auto encode = [&](size_t a, size_t b) {
      for (size_t r = a; r < b;) {  // runs of rows sharing one importance vector (one expert's)
        const float* imp = p.importance_of_row(r0 + r);
        size_t e = r + 1;
        while (e < b && p.importance_of_row(r0 + e) == imp) ++e;
        gguf::quantize_rows(p.out, f32_.data() + r * static_cast<size_t>(n_per_row), enc_.data() + r * out_rb,
                            static_cast<int64_t>(e - r), n_per_row, imp);
        r = e;
      }
    };
    pool_.parallel_for(static_cast<size_t>(n), grain, [&](size_t a, size_t b) {
      float* f = f32_.data() + a * static_cast<size_t>(n_per_row);
      const auto nr = static_cast<int64_t>(b - a);
      gguf::dequantize(t.dtype, raw_.data() + a * src_rb, f, nr * n_per_row);
      require_finite("tensor '" + t.name + "'", f, static_cast<size_t>(nr * n_per_row),
                     (r0 + a) * static_cast<uint64_t>(n_per_row));
      if (!gpu) encode(a, b);
    });
    if (gpu &&
        !be.quantize_rows(p.out, f32_.data(), enc_.data(), static_cast<int64_t>(n), n_per_row, p.importance_of_row(r0)))
      pool_.parallel_for(static_cast<size_t>(n), grain, encode);
    requantize_boosted(p, r0, n, n_per_row, out_rb);
    write({enc_.data(), n * out_rb});
  }
}

void TensorStreamer::requantize_boosted(const TensorPlan& p, uint64_t r0, uint64_t n, int64_t n_per_row,
                                        uint64_t out_rb) {
  if (p.boosted.empty() || !traits(p.out).is_quantized) return;
  std::vector<float> imp;
  for (auto it = p.boosted.lower_bound(static_cast<int64_t>(r0));
       it != p.boosted.end() && it->first < static_cast<int64_t>(r0 + n); ++it) {
    const auto local = static_cast<size_t>(it->first) - static_cast<size_t>(r0);
    const float* row_imp = p.importance_of_row(static_cast<uint64_t>(it->first));
    imp = row_imp ? std::vector<float>(row_imp, row_imp + n_per_row)
                  : std::vector<float>(static_cast<size_t>(n_per_row), 1.0f);
    for (int64_t c : it->second) imp[static_cast<size_t>(c)] *= p.boost;
    gguf::quantize_rows(p.out, f32_.data() + local * static_cast<size_t>(n_per_row), enc_.data() + local * out_rb, 1,
                        n_per_row, imp.data());
  }
}

}  // namespace libquant::jobs
