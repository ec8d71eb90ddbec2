#include "expert_stack.hpp"

#include <algorithm>

#include "libquant/core/error.hpp"

namespace libquant::model {

namespace {
[[noreturn]] void invalid(const std::string& stack, const std::string& what) {
  throw Error(ErrorCode::ValidationFailed, "invalid model: the experts of '" + stack + "' " + what,
              "config.json and the checkpoint's expert tensors disagree; re-export or re-download it");
}
}  // namespace

ExpertStack::ExpertStack(std::string gguf_name, std::vector<std::pair<int64_t, Located>> parts, int64_t n_experts)
    : name_(std::move(gguf_name)) {
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (static_cast<int64_t>(parts.size()) != n_experts)
    invalid(name_, "number " + std::to_string(parts.size()) + " in the checkpoint, but config.json declares " +
                       std::to_string(n_experts));
  for (size_t e = 0; e < parts.size(); ++e)
    if (parts[e].first != static_cast<int64_t>(e))
      invalid(name_, "skip or repeat expert " + std::to_string(e) + " ('" + parts[e].second.entry->name + "')");
  const io::SafetensorsEntry& first = *parts.front().second.entry;
  if (first.shape.rank() != 2)
    invalid(name_, "are not matrices ('" + first.name + "' has shape " + first.shape.to_string() + ")");
  for (const auto& [e, loc] : parts)
    if (loc.entry->shape != first.shape || loc.entry->dtype != first.dtype)
      invalid(name_, "differ in shape or type ('" + loc.entry->name + "' against '" + first.name + "')");
  dtype_ = first.dtype;
  rows_per_expert_ = static_cast<uint64_t>(first.shape[0]);
  part_bytes_ = first.end - first.begin;
  row_bytes_ = rows_per_expert_ ? part_bytes_ / rows_per_expert_ : 0;
  shape_ = Shape{n_experts, first.shape[0], first.shape[1]};
  pattern_ = first.name;
  if (const auto at = pattern_.find(".experts.0."); at != std::string::npos) pattern_.replace(at, 11, ".experts.*.");
  for (auto& [e, loc] : parts) parts_.push_back(loc);
}

void ExpertStack::read_rows(uint64_t row0, uint64_t n_rows, std::byte* dst) const {
  check(rows_per_expert_ > 0 && row0 + n_rows <= rows_per_expert_ * parts_.size(), ErrorCode::InvalidArgument,
        "row range outside tensor '" + name_ + "'");
  while (n_rows > 0) {
    const uint64_t e = row0 / rows_per_expert_, r = row0 % rows_per_expert_;
    const uint64_t n = std::min(n_rows, rows_per_expert_ - r);
    parts_[e].file->read(*parts_[e].entry, r * row_bytes_, {dst, n * row_bytes_});
    dst += n * row_bytes_;
    row0 += n;
    n_rows -= n;
  }
}

void ExpertStack::release() const noexcept {
  for (const auto& p : parts_) p.file->release(*p.entry);
}

}  // namespace libquant::model
