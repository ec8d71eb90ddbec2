#pragma once
// Reading small whole files (configs, texts, profiles, JSON) safely: only
// regular files are opened (a FIFO, device or directory given as input is
// refused at once instead of blocking or reading forever), and the size is
// bounded.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/export.hpp"

namespace libquant {

// The bytes of `path`. A missing, unreadable or non-regular file, or one of
// more than max_bytes, throws Error(code) whose message names `what`
// ("calibration data") and the path.
LIBQUANT_API std::string read_whole_file(const std::filesystem::path& path, ErrorCode code, std::string_view what,
                                         uint64_t max_bytes = uint64_t{1} << 32);

// Error(code) unless `path` names a regular file (symlinks followed).
LIBQUANT_API void require_regular_file(const std::filesystem::path& path, ErrorCode code, std::string_view what);

}  // namespace libquant
