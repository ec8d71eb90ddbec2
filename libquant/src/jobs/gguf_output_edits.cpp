#include "gguf_output_edits.hpp"

#include <algorithm>

#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "../io/gguf_split.hpp"

namespace libquant::jobs {

LayerPruning::LayerPruning(std::vector<int> layers, int64_t n_blocks) : n_blocks_(n_blocks) {
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  for (int l : layers)
    if (l < 0 || l >= n_blocks)
      throw Error(
          ErrorCode::InvalidArgument,
          "cannot prune layer " + std::to_string(l) + ": the model has layers 0 to " + std::to_string(n_blocks - 1),
          "Name layers that exist (`prune_layers`)");
  if (static_cast<int64_t>(layers.size()) >= n_blocks && n_blocks > 0)
    throw Error(ErrorCode::InvalidArgument, "pruning every layer would leave no model",
                "Keep at least one layer (`prune_layers`)");
  pruned_ = std::move(layers);
}

std::optional<std::string> LayerPruning::rename(const std::string& name) const {
  const auto layer = model::gguf_layer_index(name);
  if (pruned_.empty() || !layer) return name;
  const auto below = std::lower_bound(pruned_.begin(), pruned_.end(), *layer);
  if (below != pruned_.end() && *below == *layer) return std::nullopt;
  const std::string old_prefix = "blk." + std::to_string(*layer) + ".";
  const int renumbered = *layer - static_cast<int>(below - pruned_.begin());
  return "blk." + std::to_string(renumbered) + "." + name.substr(old_prefix.size());
}

void LayerPruning::apply_to(std::vector<io::GgufKv>& kvs, const std::string& arch) const {
  if (pruned_.empty()) return;
  set_kv(kvs, {arch + ".block_count", io::GgufValue::u32(static_cast<uint32_t>(n_blocks_ - count()))});
  for (const auto& kv : kvs)
    if (kv.value.is_array() && static_cast<int64_t>(kv.value.array().size()) == n_blocks_ &&
        kv.key.rfind(arch + ".", 0) == 0)
      log_warning("'" + kv.key + "' has one entry per layer and is kept unpruned (as llama-quantize does)");
}

void set_kv(std::vector<io::GgufKv>& kvs, io::GgufKv kv) {
  std::erase_if(kvs, [&](const io::GgufKv& existing) { return existing.key == kv.key; });
  kvs.push_back(std::move(kv));
}

}  // namespace libquant::jobs

namespace libquant::jobs {

std::vector<OutputShard> split_output(const std::filesystem::path& output, const std::vector<io::GgufKv>& kvs,
                                      const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& specs,
                                      const std::vector<uint32_t>& shard_of) {
  uint32_t n = 1;
  for (uint32_t s : shard_of) n = std::max(n, s + 1);
  std::string prefix = output.string();
  if (prefix.size() > 5 && prefix.ends_with(".gguf")) prefix.resize(prefix.size() - 5);
  std::vector<OutputShard> shards(n);
  for (uint32_t s = 0; s < n; ++s) {
    shards[s].path = io::gguf_split_path(prefix, static_cast<int>(s), static_cast<int>(n));
    if (s == 0) shards[s].kvs = kvs;
    if (n > 1) {  // as llama-quantize: set last, u16 numbers and an i32 total
      set_kv(shards[s].kvs, {io::kSplitNo, io::GgufValue::u16(static_cast<uint16_t>(s))});
      set_kv(shards[s].kvs, {io::kSplitCount, io::GgufValue::u16(static_cast<uint16_t>(n))});
      set_kv(shards[s].kvs, {io::kSplitTensors, io::GgufValue::i32(static_cast<int32_t>(specs.size()))});
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    shards[shard_of[i]].specs.push_back(specs[i]);
    shards[shard_of[i]].plans.push_back(i);
  }
  return shards;
}

std::vector<std::filesystem::path> input_shards(const std::filesystem::path& input, const io::GgufHeader* header) {
  const io::GgufValue* count = header ? header->find(io::kSplitCount) : nullptr;
  const int n = count ? static_cast<int>(count->as_int()) : 1;
  const auto prefix = n > 1 ? io::gguf_split_prefix(input, 0, n) : std::nullopt;
  if (!prefix) return {input};
  std::vector<std::filesystem::path> paths;
  paths.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) paths.push_back(io::gguf_split_path(*prefix, i, n));
  return paths;
}

}  // namespace libquant::jobs
