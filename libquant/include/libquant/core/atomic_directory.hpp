#pragma once
// Output directories that appear all at once (the directory analogue of
// AtomicFile): files are written into a staging directory next to the
// target, which replaces the target on commit(). A run that dies before
// commit() leaves the target as it was.
#include <filesystem>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API AtomicDirectory {
 public:
  // Throws Error(InvalidArgument) when the target is a file, or a non-empty
  // directory that is not a model checkpoint (no config.json): replacing a
  // checkpoint is expected, wiping an unrelated folder is not.
  explicit AtomicDirectory(std::filesystem::path target);
  ~AtomicDirectory();  // removes the staging directory unless committed
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  const std::filesystem::path& staging() const noexcept { return staging_; }
  const std::filesystem::path& target() const noexcept { return target_; }
  // Moves the staging directory to the target (the old target, if any, is
  // removed after the move) and returns the files written, relative to it.
  std::vector<std::filesystem::path> commit();

 private:
  std::filesystem::path target_, staging_;
  bool committed_ = false;
};

}  // namespace libquant
