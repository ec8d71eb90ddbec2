#pragma once
// Every LLM_QUANTIZE_* environment variable llm-quantize honours, in one place
// (the library reads none): each becomes an option value, a search path or a
// hook handed to the library. HF_* hub variables are interpreted by hub_models.cpp (through text()),
// LLM_QUANTIZE_SIMD and LLM_QUANTIZE_DEVICE are the --simd / --device flags' defaults.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libquant/core/progress.hpp"
#include "libquant/jobs/littlebit.hpp"

namespace cli::env {

// $NAME, empty when unset.
std::string text(const char* name);

// $NAME as a number, nullopt when unset or empty; Error(InvalidArgument) naming
// the variable when it is not a finite number.
std::optional<double> number(const char* name);

// LLM_QUANTIZE_CHECKPOINT_DIR, else the library's default (./.checkpoint).
std::filesystem::path default_checkpoint_dir();

// LLM_QUANTIZE_IMATRIX_CACHE, else $XDG_CACHE_HOME/llm-quantize/imatrix, else
// ~/.cache/llm-quantize/imatrix: where automatically computed imatrices are kept.
std::filesystem::path imatrix_cache_dir();

// LLM_QUANTIZE_PROFILE_DIR as the one extra place profiles are looked up.
std::vector<std::filesystem::path> profile_dirs();

// LLM_QUANTIZE_CUDA_PLUGIN: the plugin file to load (empty: the library looks).
std::filesystem::path cuda_plugin();

// LLM_QUANTIZE_LITTLEBIT_MIN_BPW / _MAX_BPW (the accepted target range),
// LLM_QUANTIZE_LITTLEBIT_RANK_SEARCH (quality-loop rounds) and
// LLM_QUANTIZE_SVD_PRECISION (float32 | float64) onto the options.
void apply_littlebit(libquant::jobs::LittleBitCompressOptions& o);

// The kill-and-resume tests' crash: a hook that SIGKILLs the process once the
// job's counter reaches $NAME (LLM_QUANTIZE_TEST_KILL_AFTER_CHUNKS,
// _AFTER_LAYERS, _AT_BYTES); no hook when unset.
libquant::ProgressHook kill_when_reached(const char* name);

}  // namespace cli::env
