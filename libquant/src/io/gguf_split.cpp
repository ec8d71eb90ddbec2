#include "gguf_split.hpp"

#include <cstdio>

namespace libquant::io {
namespace {

std::string suffix(int index, int count) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "-%05d-of-%05d.gguf", index + 1, count);
  return buf;
}

}  // namespace

std::filesystem::path gguf_split_path(const std::string& prefix, int index, int count) {
  return prefix + suffix(index, count);
}

std::optional<std::string> gguf_split_prefix(const std::filesystem::path& path, int index, int count) {
  const std::string s = path.string(), tail = suffix(index, count);
  if (s.size() <= tail.size() || s.compare(s.size() - tail.size(), tail.size(), tail) != 0) return std::nullopt;
  return s.substr(0, s.size() - tail.size());
}

}  // namespace libquant::io
