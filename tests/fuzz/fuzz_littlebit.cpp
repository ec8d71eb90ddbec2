// .littlebit parser: the input is tried as a whole file, as the JSON index
// of a file whose checksums are made to match (so mutations reach the range
// and size checks behind the CRCs), and as a factor block. Anything accepted
// must survive writing and parsing again.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "libquant/core/error.hpp"
#include "libquant/io/littlebit_file.hpp"

namespace {
using namespace libquant::io;

template <typename T>
void put(std::vector<std::byte>& v, T x) {
  const auto* p = reinterpret_cast<const std::byte*>(&x);
  v.insert(v.end(), p, p + sizeof x);
}

std::vector<std::byte> file_around_index(std::string_view index) {
  std::vector<std::byte> f(kLittleBitPreambleSize + 4096, std::byte{0});
  std::memcpy(f.data(), "LITLBIT", 8);
  const uint32_t version = kLittleBitVersion;
  std::memcpy(f.data() + 8, &version, 4);
  const uint64_t at = f.size();
  const auto* ib = reinterpret_cast<const std::byte*>(index.data());
  f.insert(f.end(), ib, ib + index.size());
  put(f, at);
  put(f, static_cast<uint64_t>(index.size()));
  put(f, crc32({ib, index.size()}));
  put(f, crc32(f));
  f.insert(f.end(), reinterpret_cast<const std::byte*>("LBITEND"), reinterpret_cast<const std::byte*>("LBITEND") + 8);
  return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const LittleBitFileInfo info = parse_littlebit_index(text);
    const LittleBitFileInfo again = parse_littlebit_index(littlebit_index_json(info));
    if (again.tensors.size() != info.tensors.size()) __builtin_trap();
    for (size_t i = 0; i < info.tensors.size(); ++i)
      if (again.tensors[i].name != info.tensors[i].name || again.tensors[i].offset != info.tensors[i].offset)
        __builtin_trap();
  } catch (const libquant::Error&) {}
  try {
    (void)parse_littlebit(file_around_index(text));
  } catch (const libquant::Error&) {}
  try {
    (void)parse_littlebit(bytes);
  } catch (const libquant::Error&) {}
  if (size >= 4) {
    // A factor block of a small shape chosen by the first bytes.
    const int64_t out = 1 + data[0] % 70, in = 1 + data[1] % 130, rank = 1 + data[2] % 16;
    const int paths = 1 + data[3] % 2;
    try {
      (void)decode_factors(bytes.subspan(4), out, in, rank, paths);
    } catch (const libquant::Error&) {}
  }
  return 0;
}
