#pragma once
// Outputs never destroy inputs. Every job checks its output path against its
// inputs before any work: writing over the file being read (the same inode,
// through any path, symlink or hard link), over a file of an input checkpoint
// directory, or replacing a directory that holds or is an input is refused
// with Error(InvalidArgument) naming both paths.
#include <filesystem>
#include <initializer_list>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {

enum class OutputKind { File, Directory };

LIBQUANT_API void require_output_apart_from_inputs(const std::filesystem::path& output,
                                                   const std::vector<std::filesystem::path>& inputs,
                                                   OutputKind kind = OutputKind::File);

}  // namespace libquant
