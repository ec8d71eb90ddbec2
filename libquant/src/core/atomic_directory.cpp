#include "libquant/core/atomic_directory.hpp"

#include <unistd.h>

#include <algorithm>

#include "libquant/core/error.hpp"

namespace libquant {
namespace fs = std::filesystem;

AtomicDirectory::AtomicDirectory(fs::path target) : target_(std::move(target)) {
  std::error_code ec;
  if (fs::exists(target_, ec)) {
    check(fs::is_directory(target_, ec), ErrorCode::InvalidArgument,
          "output '" + target_.string() + "' exists and is not a directory", "Choose another output path");
    check(fs::is_empty(target_, ec) || fs::exists(target_ / "config.json", ec), ErrorCode::InvalidArgument,
          "output directory '" + target_.string() + "' is not empty and holds no model checkpoint",
          "Choose a new or empty directory; an existing checkpoint directory is replaced");
  }
  const fs::path parent = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
  check(fs::is_directory(parent, ec), ErrorCode::General,
        "cannot write '" + target_.string() + "': directory '" + parent.string() + "' does not exist");
  staging_ = parent / ("." + target_.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(staging_, ec);
  fs::create_directory(staging_, ec);
  check(!ec, ErrorCode::General, "cannot create '" + staging_.string() + "': " + ec.message());
}

AtomicDirectory::~AtomicDirectory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

std::vector<fs::path> AtomicDirectory::commit() {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(staging_))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), staging_));
  std::sort(files.begin(), files.end());
  std::error_code ec;
  fs::path old;
  if (fs::exists(target_, ec)) {
    old = staging_.string() + ".old";
    fs::rename(target_, old, ec);
    check(!ec, ErrorCode::General, "cannot replace '" + target_.string() + "': " + ec.message());
  }
  fs::rename(staging_, target_, ec);
  check(!ec, ErrorCode::General, "cannot move the checkpoint to '" + target_.string() + "': " + ec.message());
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
  return files;
}

}  // namespace libquant
