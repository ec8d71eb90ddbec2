#pragma once
// GPTQ error feedback with a GGUF block codec as the quantizer
// (`quantize MODEL gguf -q TYPE --gptq`). The columns are swept one codec
// block at a time (32 values for the legacy types and IQ4_NL, 256 for the
// k- and i-quants): every row's block is encoded by the codec exactly as
// llama-quantize would encode it (with the imatrix as its importance), and
// the block's error moves the columns not yet quantized so that the layer's
// output on the calibration inputs changes as little as possible. The update
// is GPTQ's, applied to a block at once: with H^-1 = U^T U (methods/gptq.hpp),
// E = (W_B - Q_B) U_BB^-1 and W_later -= E U_B,later, which equals running
// GPTQ's column-by-column update through the block with Q_B fixed.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/export.hpp"
#include "libquant/methods/gptq.hpp"

namespace libquant {
class ThreadPool;
}

namespace libquant::methods {

struct GptqCodecResult {
  std::vector<std::byte> encoded;  // rows x row_bytes(type, cols): the tensor's GGUF data
  double loss = 0;                 // GPTQ's error estimate, 1/2 sum of E^2
};

// Sweeps w[rows, inv.cols] (row-major; a working copy is updated) with an
// inverse made in natural column order (ActOrder::None). `importance`
// (inv.cols values, or null) is the codec's column weighting, as for
// gguf::quantize_rows. Rows run in parallel on `pool` (null: one thread).
// Throws Error(InvalidArgument) when the type cannot encode rows of that
// width or the inverse was made with activation order.
LIBQUANT_API GptqCodecResult gptq_codec_sweep(std::string_view name, const float* w, int64_t rows,
                                              const GptqInverse& inv, DType type, const float* importance,
                                              ThreadPool* pool = nullptr);

// The layer's output error on its calibration inputs, tr(D H D^T) for
// D = w - deq (rows x cols) and H = 2/n X^T X (cols x cols, symmetric): what
// GPTQ minimises, to compare its result with the codec's own.
LIBQUANT_API double layer_output_error(const float* w, const float* deq, int64_t rows, int64_t cols,
                                       const std::vector<double>& h);

}  // namespace libquant::methods
