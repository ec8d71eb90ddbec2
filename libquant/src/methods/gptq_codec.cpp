#include "libquant/methods/gptq_codec.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::methods {

GptqCodecResult gptq_codec_sweep(std::string_view name, const float* w, int64_t rows, const GptqInverse& inv,
                                 DType type, const float* importance, ThreadPool* pool) {
  const int64_t cols = inv.cols;
  const auto block = static_cast<int64_t>(traits(type).block_size);
  check(traits(type).is_quantized && gguf::can_quantize(type) && gguf::can_dequantize(type), ErrorCode::InvalidArgument,
        "GPTQ needs a quantized GGUF type, not " + std::string(traits(type).name));
  check(cols > 0 && cols % block == 0, ErrorCode::InvalidArgument,
        "rows of '" + std::string(name) + "' (" + std::to_string(cols) + " values) are not whole " +
            std::string(traits(type).name) + " blocks");
  check(inv.order.empty() && static_cast<int64_t>(inv.u.size()) == cols * cols, ErrorCode::InvalidArgument,
        "GPTQ with a GGUF codec needs the inverse Hessian of '" + std::string(name) + "' in natural column order");
  check(importance || !gguf::needs_importance(type), ErrorCode::InvalidArgument,
        std::string(traits(type).name) + " needs importance weights for '" + std::string(name) + "'");

  const uint64_t row_size = row_bytes(type, cols), block_size = row_bytes(type, block);
  GptqCodecResult res;
  res.encoded.resize(static_cast<size_t>(rows) * row_size);
  std::vector<float> wp(w, w + rows * cols);  // updated as the sweep goes
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);
  const float* u = inv.u.data();

  auto sweep_rows = [&](size_t r0, size_t r1) {
    const auto n = static_cast<int64_t>(r1 - r0);
    std::vector<float> x(static_cast<size_t>(n * block)), q(x.size());
    std::vector<std::byte> bytes(static_cast<size_t>(n) * block_size);
    for (int64_t c0 = 0; c0 < cols; c0 += block) {
      // This block of every row, as the sweep has updated it so far.
      for (int64_t r = 0; r < n; ++r)
        std::memcpy(x.data() + r * block, wp.data() + (static_cast<int64_t>(r0) + r) * cols + c0,
                    static_cast<size_t>(block) * sizeof(float));
      require_finite("GPTQ-updated weights of '" + std::string(name) + "'", x.data(), x.size());
      gguf::quantize_rows(type, x.data(), bytes.data(), n, block, importance ? importance + c0 : nullptr);
      gguf::dequantize(type, bytes.data(), q.data(), n * block);
      const auto block_index = static_cast<uint64_t>(c0 / block);
      for (int64_t r = 0; r < n; ++r) {
        std::memcpy(res.encoded.data() + (r0 + static_cast<uint64_t>(r)) * row_size + block_index * block_size,
                    bytes.data() + static_cast<uint64_t>(r) * block_size, block_size);
        for (int64_t j = 0; j < block; ++j)
          x[static_cast<size_t>(r * block + j)] -= q[static_cast<size_t>(r * block + j)];
      }
      // E U_BB = W_B - Q_B (U_BB upper triangular): E = (W_B - Q_B) U_BB^-1.
      cblas_strsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, static_cast<int>(n),
                  static_cast<int>(block), 1.0f, u + c0 * cols + c0, static_cast<int>(cols), x.data(),
                  static_cast<int>(block));
      for (int64_t r = 0; r < n; ++r) {
        double s = 0;
        for (int64_t j = 0; j < block; ++j)
          s += static_cast<double>(x[static_cast<size_t>(r * block + j)]) * x[static_cast<size_t>(r * block + j)];
        row_loss[r0 + static_cast<size_t>(r)] += 0.5 * s;
      }
      const int64_t later = c0 + block;
      if (later < cols)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(cols - later),
                    static_cast<int>(block), -1.0f, x.data(), static_cast<int>(block), u + c0 * cols + later,
                    static_cast<int>(cols), 1.0f, wp.data() + static_cast<int64_t>(r0) * cols + later,
                    static_cast<int>(cols));
    }
  };
  const size_t threads = pool ? pool->size() : 1;
  if (threads > 1)
    pool->parallel_for(static_cast<size_t>(rows), (static_cast<size_t>(rows) + threads - 1) / threads, sweep_rows);
  else
    sweep_rows(0, static_cast<size_t>(rows));
  for (double l : row_loss) res.loss += l;
  return res;
}

double layer_output_error(const float* w, const float* deq, int64_t rows, int64_t cols, const std::vector<double>& h) {
  check(static_cast<int64_t>(h.size()) == cols * cols, ErrorCode::InvalidArgument,
        "the Hessian does not match the weight's columns");
  std::vector<float> d(static_cast<size_t>(rows * cols)), hf(h.begin(), h.end());
  for (size_t i = 0; i < d.size(); ++i) d[i] = w[i] - deq[i];
  std::vector<float> dh(d.size());
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols),
              static_cast<int>(cols), 1.0f, d.data(), static_cast<int>(cols), hf.data(), static_cast<int>(cols), 0.0f,
              dh.data(), static_cast<int>(cols));
  double e = 0;
  for (size_t i = 0; i < d.size(); ++i) e += static_cast<double>(d[i]) * dh[i];
  return e;
}

}  // namespace libquant::methods
