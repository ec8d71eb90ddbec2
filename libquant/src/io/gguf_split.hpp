#pragma once
// File names of a split GGUF, as llama.cpp's gguf-split and
// llama-quantize --keep-split make them: "<prefix>-00001-of-00003.gguf" for
// the first of three (shard numbers from 1 in names, from 0 in `split.no`).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace libquant::io {

inline constexpr const char* kSplitNo = "split.no";                  // u16, from 0
inline constexpr const char* kSplitCount = "split.count";            // u16
inline constexpr const char* kSplitTensors = "split.tensors.count";  // i32, tensors in all shards

// "<prefix>-%05d-of-%05d.gguf" for shard `index` (from 0) of `count`.
std::filesystem::path gguf_split_path(const std::string& prefix, int index, int count);
// The prefix of `path` when it is named as shard `index` of `count`, else nullopt.
std::optional<std::string> gguf_split_prefix(const std::filesystem::path& path, int index, int count);

}  // namespace libquant::io
