#pragma once
// Edits of the output GGUF that llama-quantize's options make and that do
// not depend on any tensor's data: removing whole blocks (prune_layers) and
// setting metadata keys (metadata_overrides, the imatrix provenance).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::jobs {

// Blocks removed from the model, the rest renumbered in order (as the 2026
// llama-quantize's --prune-layers: block i becomes i minus the number of
// pruned blocks below it; `block_count` shrinks to match).
class LayerPruning {
 public:
  LayerPruning() = default;
  // Throws Error(InvalidArgument) for an index outside [0, n_blocks) or when
  // nothing would be left. Duplicates are ignored.
  LayerPruning(std::vector<int> layers, int64_t n_blocks);
  bool empty() const noexcept { return pruned_.empty(); }
  int64_t count() const noexcept { return static_cast<int64_t>(pruned_.size()); }
  // The tensor's name in the output, or nullopt when its block is pruned.
  std::optional<std::string> rename(const std::string& name) const;
  // block_count set to the kept blocks; a warning for per-layer arrays, which stay as they are (as llama.cpp).
  void apply_to(std::vector<io::GgufKv>& kvs, const std::string& arch) const;

 private:
  std::vector<int> pruned_;  // sorted, unique
  int64_t n_blocks_ = 0;
};

// Sets `kv` as ggml's gguf_set_val does: an existing key is removed and the
// key goes last with its new value (and type).
void set_kv(std::vector<io::GgufKv>& kvs, io::GgufKv kv);

}  // namespace libquant::jobs

namespace libquant::jobs {

// One file of llama-quantize --keep-split's output: the tensors that came
// from the input's shard of the same number, in their order there.
struct OutputShard {
  std::filesystem::path path;
  std::vector<io::GgufKv> kvs;  // the first: all metadata + split keys; the others: split keys only
  std::vector<std::pair<std::string, std::pair<DType, Shape>>> specs;
  std::vector<size_t> plans;  // indices into the job's plans
};

// The shards for `output` ("m.gguf" -> m-00001-of-0000N.gguf, ...) given each
// planned tensor's input shard; split keys only when there are several.
std::vector<OutputShard> split_output(const std::filesystem::path& output, const std::vector<io::GgufKv>& kvs,
                                      const std::vector<std::pair<std::string, std::pair<DType, Shape>>>& specs,
                                      const std::vector<uint32_t>& shard_of);

// The files of a split GGUF input (just `input` when it is not split).
std::vector<std::filesystem::path> input_shards(const std::filesystem::path& input, const io::GgufHeader* header);

}  // namespace libquant::jobs
