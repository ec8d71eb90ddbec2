#pragma once
// CRC-32 (zlib's, the ISO-HDLC polynomial as gzip and PNG use): the checksum
// of .littlebit blocks and of checkpointed partial outputs.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "libquant/export.hpp"

namespace libquant {

// Continues `crc` over `data` (start with 0).
LIBQUANT_API uint32_t crc32_update(uint32_t crc, std::span<const std::byte> data) noexcept;
// CRC-32 of the first `bytes` bytes of a file; Error(CheckpointError) when it
// is shorter or unreadable (used to re-verify partial outputs).
LIBQUANT_API uint32_t crc32_of_file_prefix(const std::filesystem::path& path, uint64_t bytes);

}  // namespace libquant
