#pragma once
// Durable progress records for long jobs. A job describes itself by a
// canonical configuration string; its checkpoint (a small JSON record plus
// whatever partial file the job keeps next to it) lives in the checkpoint
// directory under a name derived from that string, so a resumed run finds
// only a checkpoint made by the very same job.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "libquant/export.hpp"

namespace libquant {

// ./.checkpoint, relative to the working directory (never a temp directory:
// checkpoints must survive a reboot). Programs choose their own default (the
// CLI: $LLM_QUANTIZE_CHECKPOINT_DIR first).
LIBQUANT_API std::filesystem::path default_checkpoint_dir();

// What a checkpoint records: units done and, for jobs whose partial output
// is one growing file, the CRC-32 of its first `bytes` bytes.
struct CheckpointRecord {
  uint64_t done = 0;
  std::optional<uint32_t> crc32;
  uint64_t bytes = 0;
};

class LIBQUANT_API Checkpoint {
 public:
  // `job` names the kind of work ("quantize-gguf"); `config` must change
  // whenever anything that affects the output changes. Takes an exclusive
  // lock on this job's records in `dir` for the object's lifetime: a second
  // identical job using the same directory gets Error(CheckpointError) at
  // once instead of writing into the same partial files.
  Checkpoint(std::filesystem::path dir, std::string job, std::string config);
  ~Checkpoint();
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // Units of work completed by an earlier run of the same job, or nullopt
  // when there is no usable record. Throws Error(CheckpointError) when a
  // record exists but is corrupt.
  std::optional<uint64_t> load() const;
  std::optional<CheckpointRecord> load_record() const;
  // Atomically records that `done` units are complete (after the job made
  // its partial data durable), with the partial file's checksum when given.
  void save(uint64_t done) const;
  void save(const CheckpointRecord& r) const;
  // Records `done` units whose partial data is the whole file `partial` (its
  // size and CRC-32 kept, so that a resumed run can tell whether it changed).
  void save_with_partial(uint64_t done, const std::filesystem::path& partial) const;
  // Throws Error(CheckpointError) unless `partial` holds exactly the bytes
  // the record `r` was saved with.
  void verify_partial(const CheckpointRecord& r, const std::filesystem::path& partial) const;
  // Removes the record and the partial file (after success).
  void clear() const;

  // Where the job keeps its partial output (`<dir>/<key><suffix>`).
  std::filesystem::path partial_path(const std::string& suffix) const;
  const std::filesystem::path& dir() const noexcept { return dir_; }
  const std::string& key() const noexcept { return key_; }

 private:
  std::filesystem::path record_path() const;
  std::filesystem::path dir_;
  std::string job_, config_, key_;
  int lock_fd_ = -1;
};

// A cheap identity for an input file: path, size and modification time.
LIBQUANT_API std::string file_identity(const std::filesystem::path& p);

}  // namespace libquant
