/* An inference engine's use of the C API: open a GGUF file, decode one tensor,
 * quantize it to another GGUF type in memory (no file written) and measure
 * what the round trip costs.
 *
 *   quantize_tensor MODEL.gguf TENSOR TYPE      e.g. model.gguf blk.0.attn_q.weight Q4_K */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <libquant/c/libquant.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL.gguf TENSOR TYPE\n", argv[0]);
    return 2;
  }
  lq_gguf* file = NULL;
  lq_status s = lq_gguf_open(argv[1], &file);
  if (s != LQ_OK) {
    fprintf(stderr, "%s (%s)\n", lq_last_error(), lq_last_suggestion());
    return s;
  }
  const int64_t index = lq_gguf_find_tensor(file, argv[2]);
  const int type = lq_type_from_name(argv[3]);
  lq_tensor_info info;
  if (index < 0 || type < 0 || lq_gguf_tensor_info(file, index, &info) != LQ_OK) {
    fprintf(stderr, "no tensor '%s' or no type '%s'\n", argv[2], argv[3]);
    lq_gguf_close(file);
    return 2;
  }
  const int64_t cols = info.dims[0], rows = (int64_t)(info.n_dims > 1 ? info.dims[1] : 1);
  const size_t n = (size_t)(rows * cols), row_size = lq_row_size(type, cols);
  float* x = malloc(n * sizeof *x);
  float* y = malloc(n * sizeof *y);
  void* q = malloc(row_size * (size_t)rows);
  s = row_size == 0 ? LQ_INVALID_ARGUMENT : lq_gguf_read_f32(file, index, x, n);
  if (s == LQ_OK) s = lq_quantize_rows(type, x, q, rows, cols, NULL);
  if (s == LQ_OK) s = lq_dequantize_rows(type, q, y, rows, cols);
  if (s == LQ_OK) {
    double err = 0, ref = 0;
    for (size_t i = 0; i < n; ++i) {
      err += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
      ref += (double)x[i] * x[i];
    }
    printf("%s as %s: %zu bytes (%.3f bits per weight), relative RMS error %.4f\n", info.name, lq_type_name(type),
           row_size * (size_t)rows, 8.0 * (double)(row_size * (size_t)rows) / (double)n, sqrt(err / ref));
  } else {
    fprintf(stderr, "%s\n", row_size == 0 ? "rows do not fit the type's blocks" : lq_last_error());
  }
  free(x), free(y), free(q);
  lq_gguf_close(file);
  return s;
}
