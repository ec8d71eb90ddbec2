#include "gguf_tensor_source.hpp"

#include <set>
#include <string>

#include "../io/gguf_split.hpp"
#include "libquant/core/error.hpp"

namespace libquant::model {
namespace fs = std::filesystem;

namespace {

int64_t split_key(const io::GgufHeader& h, const char* key, int64_t fallback) {
  const io::GgufValue* v = h.find(key);
  if (!v) return fallback;
  try {
    return v->as_int();
  } catch (const Error&) {
    throw Error(ErrorCode::ValidationFailed, std::string("invalid GGUF metadata: '") + key + "' is not an integer",
                "The file is corrupt or crafted");
  }
}

}  // namespace

GgufTensorSource::GgufTensorSource(const fs::path& path) : path_(path) {
  files_.push_back(std::make_unique<io::GgufFile>(path));
  const io::GgufHeader& first = files_[0]->header();
  const int64_t count = split_key(first, io::kSplitCount, 1);
  if (count > 1) {
    check(count <= 9999, ErrorCode::ValidationFailed,
          "'" + path.string() + "' claims " + std::to_string(count) + " shards", "The file is corrupt or crafted");
    const int64_t no = split_key(first, io::kSplitNo, 0);
    if (no != 0) {
      const auto prefix = io::gguf_split_prefix(path, static_cast<int>(no), static_cast<int>(count));
      const fs::path first_shard = io::gguf_split_path(prefix.value_or("…"), 0, static_cast<int>(count));
      throw Error(ErrorCode::InvalidArgument,
                  "'" + path.string() + "' is shard " + std::to_string(no + 1) + " of " + std::to_string(count),
                  "Give the first shard (" + first_shard.filename().string() + "); the others are found from it");
    }
    const auto prefix = io::gguf_split_prefix(path, 0, static_cast<int>(count));
    if (!prefix)
      throw Error(ErrorCode::ValidationFailed,
                  "'" + path.string() + "' is the first of " + std::to_string(count) +
                      " shards but is not named like one (" +
                      io::gguf_split_path("…", 0, static_cast<int>(count)).string() + ")",
                  "Keep gguf-split's file names so the other shards can be found");
    for (int i = 1; i < count; ++i) {
      const fs::path shard = io::gguf_split_path(*prefix, i, static_cast<int>(count));
      std::error_code ec;
      if (!fs::is_regular_file(shard, ec))
        throw Error(ErrorCode::ModelNotFound,
                    "shard " + std::to_string(i + 1) + " of " + std::to_string(count) + " ('" + shard.string() +
                        "') is missing",
                    "Put every shard of the model in one folder");
      files_.push_back(std::make_unique<io::GgufFile>(shard));
      const io::GgufHeader& h = files_.back()->header();
      if (split_key(h, io::kSplitNo, -1) != i || split_key(h, io::kSplitCount, -1) != count) {
        std::string what = "'";
        what.append(shard.string()).append("' is not shard ").append(std::to_string(i + 1));
        what.append(" of ").append(std::to_string(count)).append(" by its own split.no / split.count");
        throw Error(ErrorCode::ValidationFailed, what, "Re-create the shards together (gguf-split)");
      }
    }
  }
  header_.version = first.version;
  header_.kvs = first.kvs;
  header_.alignment = first.alignment;
  header_.data_offset = first.data_offset;
  std::set<std::string> seen;
  for (size_t f = 0; f < files_.size(); ++f) {
    const auto& infos = files_[f]->header().tensors;
    for (size_t i = 0; i < infos.size(); ++i) {
      const auto& t = infos[i];
      check(seen.insert(t.name).second, ErrorCode::ValidationFailed,
            "tensor '" + t.name + "' is in two shards of '" + path.string() + "'", "The shards are corrupt or mixed");
      header_.tensors.push_back(t);
      tensors_.push_back({t.name, t.name, t.type, t.shape, t.nbytes(), static_cast<uint32_t>(f)});
      index_in_shard_.push_back(i);
    }
  }
  if (count > 1) {
    const int64_t declared = split_key(first, io::kSplitTensors, static_cast<int64_t>(tensors_.size()));
    check(declared == static_cast<int64_t>(tensors_.size()), ErrorCode::ValidationFailed,
          "the shards hold " + std::to_string(tensors_.size()) + " tensors, split.tensors.count says " +
              std::to_string(declared),
          "A shard is missing tensors or belongs to another model");
  }
}

const io::GgufTensorInfo& GgufTensorSource::info_of(const SourceTensor& t) const noexcept {
  return files_[t.shard]->header().tensors[index_in_shard_[static_cast<size_t>(&t - tensors_.data())]];
}

void GgufTensorSource::read_rows(const SourceTensor& t, uint64_t row0, uint64_t n_rows, std::byte* dst) const {
  const uint64_t rows = t.shape.rank() <= 1 ? 1 : t.shape.rows();
  check(row0 + n_rows <= rows, ErrorCode::InvalidArgument, "row range outside tensor '" + t.name + "'");
  const uint64_t rb = rows ? t.nbytes / rows : 0;
  files_[t.shard]->read(info_of(t), row0 * rb, {dst, n_rows * rb});
}

void GgufTensorSource::release(const SourceTensor& t) const noexcept { files_[t.shard]->release(info_of(t)); }

}  // namespace libquant::model
