/* Every function of the C API (include/libquant/c/libquant.h), compiled as
 * C11: codecs byte-identical with llama-quantize's golden Q4_0 file, GGUF
 * handles, the jobs and their JSON records, cancellation, and the error paths
 * with their exit codes.
 *
 *   test_c_api SHARED_DIR SCRATCH_DIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libquant/c/libquant.h"

static int failures = 0;
#define CHECK(cond)                                                                                              \
  do {                                                                                                           \
    if (!(cond)) {                                                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, lq_last_error()); \
      ++failures;                                                                                                \
    }                                                                                                            \
  } while (0)

static char shared[1024], scratch[1024];

static const char* path_in(const char* dir, const char* name) {
  static char buf[4][2048];
  static int next = 0;
  char* p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static int exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* ---- messages ---- */
static void count_messages(lq_log_level level, const char* message, void* user) {
  (void)level;
  if (message && *message) ++*(int*)user;
}

/* ---- progress: stop after `limit` calls (0: never) ---- */
typedef struct {
  int calls, limit;
  uint64_t last_total;
} progress_state;
static int on_progress(const char* stage, uint64_t done, uint64_t total, void* user) {
  progress_state* s = (progress_state*)user;
  CHECK(stage != NULL && done <= total);
  s->last_total = total;
  ++s->calls;
  return s->limit > 0 && s->calls >= s->limit;
}

/* The number after "key": in a JSON record (NAN when absent). */
static double json_number(const char* json, const char* key) {
  char pattern[128];
  snprintf(pattern, sizeof pattern, "\"%s\": ", key);
  const char* at = json ? strstr(json, pattern) : NULL;
  return at ? strtod(at + strlen(pattern), NULL) : NAN;
}

static void test_basics(void) {
  CHECK(strcmp(lq_version(), "") != 0);
  CHECK(lq_abi_version() == LQ_ABI_VERSION);
  CHECK(lq_type_from_name("q4_0") == 2 && lq_type_from_name("Q4_K") == 12 && lq_type_from_name("F32") == 0);
  CHECK(lq_type_from_name("Q9_9") == -1 && lq_type_from_name(NULL) == -1);
  CHECK(strcmp(lq_type_name(14), "Q6_K") == 0);
  CHECK(lq_type_name(4) == NULL && lq_type_name(-1) == NULL && lq_type_name(100000) == NULL); /* 4: removed id */
  CHECK(lq_row_size(2, 64) == 36 && lq_row_size(12, 256) == 144 && lq_row_size(0, 3) == 12);
  CHECK(lq_row_size(2, 33) == 0 && lq_row_size(-3, 32) == 0);
  CHECK(lq_set_verbosity(7) == LQ_INVALID_ARGUMENT && strlen(lq_last_error()) > 0);
  CHECK(lq_set_verbosity(1) == LQ_OK);
  lq_free(NULL);
}

static void test_codecs_and_gguf(void) {
  lq_gguf *orig = NULL, *golden = NULL, *missing = (lq_gguf*)1;
  CHECK(lq_gguf_open(path_in(shared, "models/stories260K.gguf"), &orig) == LQ_OK && orig);
  CHECK(lq_gguf_open(path_in(shared, "golden/stories260K/quantized/stories260K-Q4_0.gguf"), &golden) == LQ_OK);
  CHECK(lq_gguf_open(path_in(scratch, "no-such.gguf"), &missing) != LQ_OK && missing == NULL);
  CHECK(strlen(lq_last_error()) > 0);
  CHECK(lq_gguf_open(NULL, &missing) == LQ_INVALID_ARGUMENT);
  if (!orig || !golden) return;
  CHECK(lq_gguf_tensor_count(orig) == lq_gguf_tensor_count(golden) && lq_gguf_tensor_count(orig) > 0);
  CHECK(lq_gguf_tensor_count(NULL) == 0);
  CHECK(lq_gguf_find_tensor(orig, "no.such.tensor") == -1 && lq_gguf_find_tensor(NULL, "x") == -1);

  const int64_t i = lq_gguf_find_tensor(orig, "blk.0.attn_q.weight");
  const int64_t g = lq_gguf_find_tensor(golden, "blk.0.attn_q.weight");
  CHECK(i >= 0 && g >= 0);
  lq_tensor_info ti, gi;
  CHECK(lq_gguf_tensor_info(orig, i, &ti) == LQ_OK && lq_gguf_tensor_info(golden, g, &gi) == LQ_OK);
  CHECK(strcmp(ti.name, "blk.0.attn_q.weight") == 0 && ti.type == 0 && gi.type == lq_type_from_name("Q4_0"));
  CHECK(ti.n_dims == 2 && ti.dims[0] == gi.dims[0] && ti.dims[1] == gi.dims[1]);
  CHECK(lq_gguf_tensor_info(orig, lq_gguf_tensor_count(orig), &ti) == LQ_INVALID_ARGUMENT);
  CHECK(lq_gguf_tensor_info(orig, -1, &ti) == LQ_INVALID_ARGUMENT);

  const int64_t cols = gi.dims[0], rows = gi.dims[1];
  const size_t n = (size_t)(rows * cols), row_bytes = lq_row_size(gi.type, cols);
  float* x = malloc(n * sizeof *x);
  float* back = malloc(n * sizeof *back);
  float* golden_f32 = malloc(n * sizeof *golden_f32);
  unsigned char* mine = malloc((size_t)rows * row_bytes);
  unsigned char* theirs = malloc(gi.nbytes);
  CHECK(gi.nbytes == (uint64_t)rows * row_bytes);
  CHECK(lq_gguf_read_f32(orig, i, x, n) == LQ_OK);
  CHECK(lq_gguf_read_f32(orig, i, x, n - 1) == LQ_INVALID_ARGUMENT);
  CHECK(lq_gguf_read_raw(golden, g, theirs, gi.nbytes) == LQ_OK);
  CHECK(lq_gguf_read_raw(golden, g, theirs, gi.nbytes - 1) == LQ_INVALID_ARGUMENT);
  /* llama-quantize's bytes, quantized here from the F32 file */
  CHECK(lq_quantize_rows(gi.type, x, mine, rows, cols, NULL) == LQ_OK);
  CHECK(memcmp(mine, theirs, gi.nbytes) == 0);
  CHECK(lq_dequantize_rows(gi.type, mine, back, rows, cols) == LQ_OK);
  CHECK(lq_gguf_read_f32(golden, g, golden_f32, n) == LQ_OK);
  CHECK(memcmp(back, golden_f32, n * sizeof *back) == 0);
  double worst = 0;
  for (size_t k = 0; k < n; ++k) worst = fmax(worst, fabs((double)back[k] - x[k]));
  CHECK(worst > 0 && worst < 0.5);

  CHECK(lq_quantize_rows(4, x, mine, rows, cols, NULL) == LQ_INVALID_ARGUMENT);     /* no such type */
  CHECK(lq_quantize_rows(gi.type, x, mine, rows, 33, NULL) == LQ_INVALID_ARGUMENT); /* partial block */
  CHECK(lq_quantize_rows(gi.type, NULL, mine, rows, cols, NULL) == LQ_INVALID_ARGUMENT);
  CHECK(lq_quantize_rows(gi.type, x, mine, INT64_MAX / 32, 64, NULL) == LQ_INVALID_ARGUMENT); /* overflowing size */
  const float kept = x[5];
  x[5] = NAN;
  CHECK(lq_quantize_rows(gi.type, x, mine, rows, cols, NULL) == LQ_VALIDATION_FAILED);
  CHECK(strstr(lq_last_error(), "index 5") != NULL);
  x[5] = kept;
  CHECK(lq_quantize_rows(lq_type_from_name("IQ2_XS"), x, mine, 1, 256, NULL) == LQ_INVALID_ARGUMENT);
  CHECK(strstr(lq_last_error(), "importance") != NULL && strlen(lq_last_suggestion()) > 0);
  CHECK(lq_dequantize_rows(gi.type, mine, back, rows, 20) == LQ_INVALID_ARGUMENT);
  free(x), free(back), free(golden_f32), free(mine), free(theirs);
  lq_gguf_close(orig);
  lq_gguf_close(golden);
  lq_gguf_close(NULL);
}

static void test_jobs(void) {
  char model[2048]; /* path_in()'s buffers are reused */
  snprintf(model, sizeof model, "%s", path_in(shared, "models/stories260K.gguf"));
  int messages = 0;
  lq_set_log_callback(count_messages, &messages);
  CHECK(lq_set_verbosity(3) == LQ_OK); /* debug: every message reaches the callback */

  lq_quantize_options q;
  lq_quantize_options_init(&q);
  CHECK(strcmp(q.file_type, "Q8_0") == 0 && q.input == NULL && q.progress == NULL);
  q.input = model;
  q.output = path_in(scratch, "q8.gguf");
  progress_state ps = {0, 0, 0};
  q.progress = on_progress;
  q.progress_user = &ps;
  char* json = NULL;
  CHECK(lq_quantize_gguf(&q, &json) == LQ_OK && json != NULL);
  CHECK(json && strstr(json, "\"validation_status\": \"valid\"") != NULL);
  CHECK(json && strstr(json, "\"quantization_level\": \"Q8_0\"") != NULL);
  CHECK(ps.calls > 2 && ps.last_total > 0);
  struct stat st;
  CHECK(stat(q.output, &st) == 0 && json_number(json, "file_size") == (double)st.st_size);
  lq_free(json);
  CHECK(messages > 0);
  CHECK(lq_set_verbosity(1) == LQ_OK);

  /* stopped by its progress callback: LQ_CANCELLED, nothing written */
  progress_state stop = {0, 3, 0};
  q.output = path_in(scratch, "stopped.gguf");
  q.progress_user = &stop;
  json = (char*)1;
  CHECK(lq_quantize_gguf(&q, &json) == LQ_CANCELLED && json == NULL && stop.calls == 3);
  CHECK(!exists(q.output));
  /* errors carry the CLI's exit codes */
  q.progress = NULL;
  q.file_type = "Q9_9";
  CHECK(lq_quantize_gguf(&q, NULL) == LQ_INVALID_ARGUMENT && !exists(q.output));
  q.file_type = "Q8_0";
  q.input = path_in(scratch, "no-such-model");
  CHECK(lq_quantize_gguf(&q, NULL) == LQ_MODEL_NOT_FOUND && strlen(lq_last_error()) > 0);
  CHECK(lq_quantize_gguf(NULL, NULL) == LQ_INVALID_ARGUMENT);

  lq_analyze_options a;
  lq_analyze_options_init(&a);
  CHECK(a.ctx == 512 && a.chunks == 0);
  a.model = model;
  a.output = path_in(scratch, "imatrix.gguf");
  a.data = path_in(shared, "data/calib.txt");
  a.ctx = 128;
  a.chunks = 2;
  CHECK(lq_analyze(&a, &json) == LQ_OK && exists(a.output));
  CHECK(json_number(json, "chunks") == 2 && json_number(json, "num_entries") > 0);
  lq_free(json);
  a.data = path_in(scratch, "no-such.txt");
  a.output = path_in(scratch, "imatrix2.gguf");
  CHECK(lq_analyze(&a, NULL) == LQ_CALIBRATION_DATA_ERROR && !exists(a.output));

  lq_perplexity_options p;
  lq_perplexity_options_init(&p);
  p.model = model;
  p.data = path_in(shared, "data/eval-tinystories.txt");
  p.ctx = 128;
  p.chunks = 2;
  CHECK(lq_perplexity(&p, &json) == LQ_OK);
  const double ppl = json_number(json, "perplexity");
  CHECK(ppl > 1 && ppl < 512 && json_number(json, "chunks") == 2); /* stories260K: vocabulary 512 */
  lq_free(json);
  p.ctx = 4;
  CHECK(lq_perplexity(&p, NULL) == LQ_INVALID_ARGUMENT);

  CHECK(lq_inspect_model(model, &json) == LQ_OK && strstr(json, "\"architecture\": \"llama\"") != NULL);
  lq_free(json);
  CHECK(lq_inspect_model(NULL, &json) == LQ_INVALID_ARGUMENT && json == NULL);
  lq_set_log_callback(NULL, NULL);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: test_c_api SHARED_DIR SCRATCH_DIR\n");
    return 2;
  }
  snprintf(shared, sizeof shared, "%s", argv[1]);
  snprintf(scratch, sizeof scratch, "%s/c-api-%ld", argv[2], (long)getpid());
  mkdir(argv[2], 0755);
  mkdir(scratch, 0755);
  test_basics();
  test_codecs_and_gguf();
  test_jobs();
  if (failures == 0) printf("C API: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
