// Past the parser: LittleBit factors decoded from fuzzed blocks (dims chosen
// by the input), and factors whose parts disagree with their declared sizes,
// through apply() and reconstruct_rows(). Consistent factors must run; the
// others must be refused with a libquant::Error before any product.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/io/littlebit_file.hpp"

using namespace libquant;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int64_t out = in.ConsumeIntegralInRange<int64_t>(1, 80), inn = in.ConsumeIntegralInRange<int64_t>(1, 140);
  const int64_t rank = in.ConsumeIntegralInRange<int64_t>(1, 20);
  const int paths = in.ConsumeIntegralInRange<int>(1, 2);
  const int64_t tokens = in.ConsumeIntegralInRange<int64_t>(0, 20);
  const bool tamper = in.ConsumeBool();
  const auto sizes = in.ConsumeIntegralInRange<int>(0, 7);
  std::vector<uint8_t> rest = in.ConsumeRemainingBytes<uint8_t>();
  cpu::LittleBitFactors f;
  try {
    // Pad the block to the layout's size so that most inputs decode.
    const auto layout = io::littlebit_block_layout(out, inn, rank, paths);
    rest.resize(layout.size, 0);
    f = io::decode_factors({reinterpret_cast<const std::byte*>(rest.data()), rest.size()}, out, inn, rank, paths);
  } catch (const Error&) {
    return 0;
  }
  if (tamper) {  // parts of other sizes than out / in / rank say
    auto& p = f.paths[0];
    if (sizes & 1) p.h.pop_back();
    if (sizes & 2) p.u = cpu::PackedSigns(out + 1, rank);
    if (sizes & 4) f.in += 1;
  }
  std::vector<float> x(static_cast<size_t>(tokens * f.in), 0.5f), y(static_cast<size_t>(tokens * f.out));
  try {
    f.apply(x.data(), tokens, y.data());
    if (tamper && sizes) __builtin_trap();  // inconsistent factors must not run
    std::vector<float> w(static_cast<size_t>(f.out * f.in));
    f.reconstruct_rows(0, f.out, w.data());
  } catch (const Error&) {
    if (!tamper || !sizes) __builtin_trap();  // consistent factors must run
  }
  return 0;
}
