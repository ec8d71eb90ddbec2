/* libquant's C API: the library for programs that cannot link C++ (engines in
 * C, Rust, Go, Zig, ... through FFI). No C++ type crosses it: files are opaque
 * handles, options are plain structs (initialise them with their _init
 * function, then set what you need), results are JSON records (the same ones
 * `llm-quantize --format json` prints; docs/cli.md lists their fields) in
 * memory the caller frees with lq_free().
 *
 * Every function that can fail returns an lq_status equal to llm-quantize's
 * exit code for that failure (LQ_OK = 0); lq_last_error() and
 * lq_last_suggestion() then say what happened, for the calling thread, until
 * its next failing call. Nothing here exits, aborts or writes to stdout;
 * messages go to the log callback (stderr by default).
 *
 * Versioning: LQ_ABI_VERSION changes whenever a struct or signature below
 * changes incompatibly; lq_abi_version() is the library's, to compare. */
#ifndef LIBQUANT_C_LIBQUANT_H
#define LIBQUANT_C_LIBQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "libquant/export.hpp"

#ifdef __cplusplus
extern "C" {
#endif

#define LQ_ABI_VERSION 1

/* llm-quantize's exit codes (docs/cli.md). */
typedef enum lq_status {
  LQ_OK = 0,
  LQ_GENERAL = 1,
  LQ_INVALID_ARGUMENT = 2,
  LQ_MODEL_NOT_FOUND = 3,
  LQ_AUTHENTICATION_REQUIRED = 4,
  LQ_OUT_OF_MEMORY = 5,
  LQ_VALIDATION_FAILED = 6,
  LQ_CHECKPOINT_ERROR = 7,
  LQ_UNSUPPORTED_CONVERSION = 8,
  LQ_CANCELLED_AFTER_QUALITY_WARNING = 9,
  LQ_IMATRIX_INVALID = 10,
  LQ_QUALITY_DEGRADATION = 11,
  LQ_COHERENCE_FAILED = 12,
  LQ_PROFILE_INVALID = 13,
  LQ_SMOOTHQUANT_FAILED = 14,
  LQ_CALIBRATION_DATA_ERROR = 15,
  LQ_IMPORTANCE_FAILED = 16,
  LQ_FACTORIZATION_FAILED = 20,
  LQ_LITTLEBIT_QUALITY_EXCEEDED = 21,
  LQ_INVALID_BPW_RANGE = 22,
  LQ_RANK_SELECTION_FAILED = 23,
  LQ_RECONSTRUCTION_FAILED = 24,
  /* A progress callback asked to stop (as a shell reports SIGINT): the job
   * left nothing at its output path. */
  LQ_CANCELLED = 130
} lq_status;

/* "0.1.0" */
LIBQUANT_API const char* lq_version(void);
LIBQUANT_API int lq_abi_version(void);

/* The calling thread's last failure: message and suggestion ("" when none). */
LIBQUANT_API const char* lq_last_error(void);
LIBQUANT_API const char* lq_last_suggestion(void);

/* Frees what the library allocated for the caller (result JSON). NULL is fine. */
LIBQUANT_API void lq_free(void* p);

/* ---- Messages ------------------------------------------------------------ */

typedef enum lq_log_level { LQ_LOG_INFO = 0, LQ_LOG_WARNING = 1, LQ_LOG_VERBOSE = 2, LQ_LOG_DEBUG = 3 } lq_log_level;
/* Receives every message that passes the verbosity; calls are serialised and
 * must not call back into libquant. */
typedef void (*lq_log_fn)(lq_log_level level, const char* message, void* user);
/* NULL restores the default (stderr). */
LIBQUANT_API void lq_set_log_callback(lq_log_fn fn, void* user);
/* 0 quiet (warnings dropped too), 1 normal (default), 2 verbose, 3 debug;
 * LQ_INVALID_ARGUMENT for anything else. */
LIBQUANT_API lq_status lq_set_verbosity(int verbosity);

/* ---- GGUF block codecs ----------------------------------------------------- */

/* A ggml type by name ("Q4_K", "q8_0", "F16", ...) as its ggml number; -1 when unknown. */
LIBQUANT_API int lq_type_from_name(const char* name);
/* The type's name ("Q4_K"); NULL for a number that is no type. */
LIBQUANT_API const char* lq_type_name(int type);
/* Bytes of one row of `cols` values; 0 when cols is not a whole number of the type's blocks. */
LIBQUANT_API size_t lq_row_size(int type, int64_t cols);
/* rows x cols floats (row-major) into rows x lq_row_size(type, cols) bytes,
 * exactly as llama-quantize writes them. `importance` (cols values, or NULL)
 * weighs the columns (an imatrix entry); the IQ1/IQ2 types need it. */
LIBQUANT_API lq_status lq_quantize_rows(int type, const float* src, void* dst, int64_t rows, int64_t cols,
                                        const float* importance);
/* The inverse: rows x cols floats from rows of `type`. */
LIBQUANT_API lq_status lq_dequantize_rows(int type, const void* src, float* dst, int64_t rows, int64_t cols);

/* ---- GGUF files ------------------------------------------------------------ */

typedef struct lq_gguf lq_gguf;

typedef struct lq_tensor_info {
  const char* name; /* valid while the file is open */
  int type;         /* ggml type number */
  int n_dims;
  int64_t dims[4]; /* dims[0] = values per row (GGUF order) */
  uint64_t nbytes;
} lq_tensor_info;

/* Opens and validates a GGUF file (mapped, not read). */
LIBQUANT_API lq_status lq_gguf_open(const char* path, lq_gguf** out);
LIBQUANT_API void lq_gguf_close(lq_gguf* file);
LIBQUANT_API int64_t lq_gguf_tensor_count(const lq_gguf* file);
/* -1 when there is no tensor of that name. */
LIBQUANT_API int64_t lq_gguf_find_tensor(const lq_gguf* file, const char* name);
LIBQUANT_API lq_status lq_gguf_tensor_info(const lq_gguf* file, int64_t index, lq_tensor_info* out);
/* The tensor's stored bytes; `capacity` must be at least its nbytes. */
LIBQUANT_API lq_status lq_gguf_read_raw(const lq_gguf* file, int64_t index, void* dst, size_t capacity);
/* The tensor decoded to floats; `count` must be its number of values. */
LIBQUANT_API lq_status lq_gguf_read_f32(const lq_gguf* file, int64_t index, float* dst, size_t count);

/* ---- Jobs ------------------------------------------------------------------ */

/* Progress of a job: `stage` ("Quantizing"), `done` of `total`. Return nonzero
 * to stop the job: it then returns LQ_CANCELLED with nothing at its output. */
typedef int (*lq_progress_fn)(const char* stage, uint64_t done, uint64_t total, void* user);

typedef struct lq_quantize_options {
  const char* input;     /* HF checkpoint directory or GGUF file */
  const char* output;    /* the .gguf file to write */
  const char* file_type; /* llama-quantize's name: "Q4_K_M", "Q8_0", "F16", ... (default "Q8_0") */
  const char* imatrix;   /* importance matrix file, or NULL */
  unsigned threads;      /* 0: all cores */
  lq_progress_fn progress;
  void* progress_user;
} lq_quantize_options;
LIBQUANT_API void lq_quantize_options_init(lq_quantize_options* o);
/* `quantize INPUT gguf -q TYPE`: *result_json receives the record (lq_free it). */
LIBQUANT_API lq_status lq_quantize_gguf(const lq_quantize_options* o, char** result_json);

typedef struct lq_analyze_options {
  const char* model;  /* HF checkpoint directory or GGUF file */
  const char* output; /* the importance matrix to write (.dat legacy, .gguf GGUF) */
  const char* data;   /* calibration text, or NULL for the bundled one */
  int64_t ctx;        /* tokens per chunk (default 512) */
  int64_t chunks;     /* 0: all the text gives */
  unsigned threads;
  lq_progress_fn progress;
  void* progress_user;
} lq_analyze_options;
LIBQUANT_API void lq_analyze_options_init(lq_analyze_options* o);
/* `analyze MODEL -o OUTPUT`: the importance matrix, and its record. */
LIBQUANT_API lq_status lq_analyze(const lq_analyze_options* o, char** result_json);

typedef struct lq_perplexity_options {
  const char* model;
  const char* data; /* evaluation text */
  int64_t ctx;      /* default 512 */
  int64_t chunks;   /* 0: all */
  unsigned threads;
  lq_progress_fn progress;
  void* progress_user;
} lq_perplexity_options;
LIBQUANT_API void lq_perplexity_options_init(lq_perplexity_options* o);
/* `quality perplexity`: llama-perplexity's estimate, and its record. */
LIBQUANT_API lq_status lq_perplexity(const lq_perplexity_options* o, char** result_json);

/* `info MODEL`: what a checkpoint is (record only, no tensor data read). */
LIBQUANT_API lq_status lq_inspect_model(const char* path, char** result_json);

#ifdef __cplusplus
}
#endif

#endif /* LIBQUANT_C_LIBQUANT_H */
