#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "libquant/core/read_file.hpp"
#include "libquant/core/error.hpp"
#include "libquant/io/safetensors.hpp"

namespace libquant::io {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid safetensors file: " + what,
              "The file is truncated or corrupt; re-download or re-export it");
}

uint64_t read_u64_le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

std::vector<SafetensorsEntry> SafetensorsFile::parse_header(std::span<const std::byte> file,
                                                            std::map<std::string, std::string>* metadata) {
  if (file.size() < 8) invalid("file is shorter than the 8-byte header length");
  const uint64_t n = read_u64_le(file.data());
  if (n > kMaxHeaderBytes) invalid("header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n + 8 > file.size()) invalid("header length " + std::to_string(n) + " runs past the end of the file");
  if (n < 2) invalid("header is too short to be a JSON object");

  std::string_view text(reinterpret_cast<const char*>(file.data() + 8), n);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') invalid("header does not start with '{'");

  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    invalid(std::string("header is not valid JSON: ") + simdjson::error_message(err));
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) invalid("header is not a JSON object");

  std::vector<SafetensorsEntry> entries;
  std::set<std::string, std::less<>> seen;
  for (auto field : obj) {
    std::string key(field.key);
    if (!seen.insert(key).second) invalid("duplicate tensor name '" + key + "'");
    if (key == "__metadata__") {
      simdjson::dom::object meta;
      if (field.value.get_object().get(meta)) invalid("__metadata__ is not an object");
      for (auto m : meta) {
        std::string_view v;
        if (m.value.get_string().get(v)) invalid("__metadata__ value of '" + std::string(m.key) + "' is not a string");
        if (metadata) (*metadata)[std::string(m.key)] = std::string(v);
      }
      continue;
    }
    simdjson::dom::object t;
    if (field.value.get_object().get(t)) invalid("entry '" + key + "' is not an object");
    std::string_view dtype_name;
    if (t["dtype"].get_string().get(dtype_name)) invalid("tensor '" + key + "' has no dtype string");
    const auto dtype = safetensors_dtype_from_name(dtype_name);
    if (!dtype) invalid("tensor '" + key + "' has unknown dtype '" + std::string(dtype_name) + "'");
    simdjson::dom::array shape_arr, offs;
    if (t["shape"].get_array().get(shape_arr)) invalid("tensor '" + key + "' has no shape array");
    if (t["data_offsets"].get_array().get(offs)) invalid("tensor '" + key + "' has no data_offsets array");
    std::vector<int64_t> dims;
    for (auto d : shape_arr) {
      uint64_t v;
      if (d.get_uint64().get(v) || v > (uint64_t{1} << 48)) invalid("tensor '" + key + "' has a bad dimension");
      dims.push_back(static_cast<int64_t>(v));
    }
    if (dims.size() > 8) invalid("tensor '" + key + "' has more than 8 dimensions");
    std::vector<uint64_t> o;
    for (auto d : offs) {
      uint64_t v;
      if (d.get_uint64().get(v)) invalid("tensor '" + key + "' has a non-integer data offset");
      o.push_back(v);
    }
    if (o.size() != 2 || o[0] > o[1]) invalid("tensor '" + key + "' has bad data_offsets");
    SafetensorsEntry e{key, *dtype, Shape(dims), o[0], o[1]};
    uint64_t numel = 0;
    try {
      numel = e.shape.numel();
    } catch (const Error&) {
      invalid("tensor '" + key + "' has an element count that overflows");
    }
    const uint64_t bits = traits(e.dtype).block_bits;
    if (numel != 0 && numel > UINT64_MAX / bits) invalid("tensor '" + key + "' byte size overflows");
    if ((numel * bits) % 8 != 0) invalid("tensor '" + key + "' does not fill whole bytes");
    const uint64_t expected = numel * bits / 8;
    if (e.end - e.begin != expected)
      invalid("tensor '" + key + "' occupies " + std::to_string(e.end - e.begin) + " bytes but dtype x shape needs " +
              std::to_string(expected));
    entries.push_back(std::move(e));
  }

  // Offsets must tile the data buffer exactly: no overlap, no gap, no trailing bytes.
  std::vector<const SafetensorsEntry*> by_offset;
  by_offset.reserve(entries.size());
  for (const auto& e : entries) by_offset.push_back(&e);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->begin < b->begin || (a->begin == b->begin && a->end < b->end);
  });
  uint64_t pos = 0;
  for (const auto* e : by_offset) {
    if (e->begin < pos) invalid("tensor '" + e->name + "' overlaps the previous tensor");
    if (e->begin > pos) invalid("gap of " + std::to_string(e->begin - pos) + " bytes before tensor '" + e->name + "'");
    pos = e->end;
  }
  const uint64_t data_size = file.size() - 8 - n;
  if (pos != data_size)
    invalid(pos > data_size ? "tensor data runs past the end of the file (truncated?)"
                            : std::to_string(data_size - pos) + " trailing bytes after the last tensor");
  return entries;
}

SafetensorsFile::SafetensorsFile(const fs::path& path) : file_(path) {
  try {
    entries_ = parse_header(file_.bytes(), &metadata_);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.what()) + " ('" + path.string() + "')", e.suggestion());
  }
  data_start_ = 8 + [&] {
    uint64_t n = 0;
    std::memcpy(&n, file_.bytes().data(), 8);
    return n;
  }();
}

const SafetensorsEntry* SafetensorsFile::find(std::string_view name) const noexcept {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

TensorView SafetensorsFile::view(const SafetensorsEntry& e) const {
  return {e.dtype, e.shape, file_.bytes().subspan(data_start_ + e.begin, e.end - e.begin)};
}

void SafetensorsFile::read(const SafetensorsEntry& e, uint64_t offset, std::span<std::byte> dst) const {
  check(offset <= e.end - e.begin && dst.size() <= e.end - e.begin - offset, ErrorCode::InvalidArgument,
        "read outside tensor '" + e.name + "'");
  file_.read_into(data_start_ + e.begin + offset, dst);
}

void SafetensorsFile::release(const SafetensorsEntry& e) const noexcept {
  file_.release(data_start_ + e.begin, e.end - e.begin);
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(ErrorCode::ModelNotFound, "model '" + path.string() + "' not found", "Check the model path");
  std::vector<fs::path> files;
  std::map<std::string, std::string> index_map;  // tensor -> shard file name
  if (fs::is_directory(path)) {
    const fs::path index = path / "model.safetensors.index.json";
    if (fs::exists(index)) {
      simdjson::dom::parser parser;
      const simdjson::padded_string json(
          read_whole_file(index, ErrorCode::ValidationFailed, "safetensors index", 256u << 20));
      simdjson::dom::object wm;
      if (parser.parse(json)["weight_map"].get_object().get(wm))
        throw Error(ErrorCode::ValidationFailed, "'" + index.string() + "' has no weight_map object");
      std::set<std::string> shard_names;
      for (auto kv : wm) {
        std::string_view shard;
        if (kv.value.get_string().get(shard))
          throw Error(ErrorCode::ValidationFailed, "weight_map entry '" + std::string(kv.key) + "' is not a string");
        if (shard.find('/') != std::string_view::npos || shard == "..")
          throw Error(ErrorCode::ValidationFailed,
                      "weight_map names a shard outside the directory: '" + std::string(shard) + "'");
        index_map[std::string(kv.key)] = std::string(shard);
        shard_names.insert(std::string(shard));
      }
      for (const auto& s : shard_names) {
        if (!fs::exists(path / s))
          throw Error(ErrorCode::ModelNotFound, "shard '" + s + "' named by the index is missing",
                      "Download the complete checkpoint");
        files.push_back(path / s);
      }
    } else if (fs::exists(path / "model.safetensors")) {
      files.push_back(path / "model.safetensors");
    } else {
      for (const auto& de : fs::directory_iterator(path))
        if (de.path().extension() == ".safetensors") files.push_back(de.path());
      std::sort(files.begin(), files.end());
      if (files.empty())
        throw Error(ErrorCode::ModelNotFound, "no .safetensors files in '" + path.string() + "'",
                    "Point to a Hugging Face checkpoint directory or a .gguf file");
    }
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) shards_.push_back(std::make_unique<SafetensorsFile>(f));
  for (const auto& s : shards_) {
    for (const auto& e : s->entries()) {
      if (by_name_.count(e.name))
        throw Error(ErrorCode::ValidationFailed, "tensor '" + e.name + "' appears in more than one shard");
      if (!index_map.empty()) {
        auto it = index_map.find(e.name);
        if (it == index_map.end() || it->second != s->path().filename().string())
          throw Error(ErrorCode::ValidationFailed, "tensor '" + e.name + "' is not where the index says it is");
      }
      by_name_[e.name] = tensors_.size();
      tensors_.push_back({s.get(), &e});
    }
  }
  for (const auto& [name, shard] : index_map)
    if (!by_name_.count(name))
      throw Error(ErrorCode::ValidationFailed,
                  "tensor '" + name + "' listed in the index is missing from '" + shard + "'");
}

const SafetensorsCheckpoint::Located* SafetensorsCheckpoint::find(std::string_view name) const noexcept {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

uint64_t SafetensorsCheckpoint::total_bytes() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.entry->end - t.entry->begin;
  return n;
}

}  // namespace libquant::io
