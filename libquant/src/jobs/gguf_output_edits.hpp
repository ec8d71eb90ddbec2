#pragma once
// Edits of the output GGUF that llama-quantize's options make and that do
// not depend on any tensor's data: removing whole blocks (prune_layers) and
// setting metadata keys (metadata_overrides, the imatrix provenance).
#include <optional>
#include <string>
#include <vector>

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
  int64_t kept_blocks(int64_t n_blocks) const noexcept { return n_blocks - static_cast<int64_t>(pruned_.size()); }
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
