// One step of LittleBit block-output matching on a Llama-2-7B-shaped decoder
// block (hidden 4096, 32 heads, MLP 11008): the block's forward and backward
// through DecoderBlockGrad on range(0) tokens (sequences of 512), with dense
// synthetic weights. This is the dominant cost of a step (the factor
// reconstruction adds ~m n r per weight); it runs on the active backend
// (LLM_QUANTIZE_DEVICE=cuda for the GPU). x 40 steps x 32 layers gives the
// stage's time for the whole model.
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <vector>

#include "bench_environment.hpp"
#include "libquant/backend/backend.hpp"
#include "libquant/eval/decoder_block_grad.hpp"

namespace {
using namespace libquant;

std::vector<float> noise(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> x(n);
  for (auto& v : x) v = d(rng);
  return x;
}

void BM_block_step_7b(benchmark::State& s) {
  bench::use_device_from_environment();
  eval::DecoderBlockConstants c;
  c.hidden = 4096;
  c.heads = c.kv_heads = 32;
  c.head_dim = 128;
  c.ff = 11008;
  c.attn_norm.assign(4096, 1.0f);
  c.ffn_norm.assign(4096, 1.0f);
  const int64_t tokens = s.range(0), T = 512, B = tokens / T;
  const int64_t outs[] = {4096, 4096, 4096, 4096, 11008, 11008, 4096},
                ins[] = {4096, 4096, 4096, 4096, 4096, 4096, 11008};
  std::array<std::vector<float>, eval::kBlockLinears> w, dw;
  std::array<const float*, eval::kBlockLinears> wp{};
  for (int i = 0; i < eval::kBlockLinears; ++i) {
    w[i] = noise(static_cast<size_t>(outs[i] * ins[i]), 10 + i, 0.02f);
    wp[i] = w[i].data();
  }
  const auto x = noise(static_cast<size_t>(tokens * 4096), 1, 1.0f), target = noise(x.size(), 2, 1.0f);
  eval::DecoderBlockGrad block(c, B, T);
  for (auto _ : s) {
    block.forward(x.data(), wp, nullptr);
    benchmark::DoNotOptimize(block.backward(target.data(), &dw));
  }
  s.SetLabel(backend::active().name());
}

}  // namespace

BENCHMARK(BM_block_step_7b)->Arg(512)->Arg(1024)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_MAIN();
