// The packaged library from C++: quantize a row to Q8_0 and decode it (values
// that Q8_0 stores exactly), and name the library's version.
#include <cstdio>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/version.hpp"

int main() {
  std::vector<float> row(32);
  for (int i = 0; i < 32; ++i) row[i] = static_cast<float>(i * 8 - 127);  // amax 127: scale 1, exact
  std::vector<unsigned char> block(libquant::row_bytes(libquant::DType::Q8_0, 32));
  libquant::gguf::quantize_rows(libquant::DType::Q8_0, row.data(), block.data(), 1, 32);
  std::vector<float> back(32);
  libquant::gguf::dequantize(libquant::DType::Q8_0, block.data(), back.data(), 32);
  for (int i = 0; i < 32; ++i)
    if (back[i] != row[i]) {
      std::printf("value %d: %g, expected %g\n", i, back[i], row[i]);
      return 1;
    }
  std::printf("libquant %s: Q8_0 round trip exact\n", LIBQUANT_VERSION_STRING);
  return 0;
}
