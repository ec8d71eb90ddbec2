// The C API's status, errors, messages, codecs and GGUF handles
// (include/libquant/c/libquant.h); the jobs are in c_api_jobs.cpp.
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "c_api_guard.hpp"
#include "libquant/c/libquant.h"
#include "libquant/core/dtype.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/core/log.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/version.hpp"

using namespace libquant;

struct lq_gguf {
  explicit lq_gguf(const char* path) : file(path) {}
  io::GgufFile file;
};

namespace {

// The ggml type with this number; nullopt for numbers that are none (or were removed).
std::optional<DType> ggml_type(int type) {
  if (type < 0 || !is_valid_ggml_type_id(static_cast<uint32_t>(type))) return std::nullopt;
  return static_cast<DType>(type);
}

DType checked_type(int type) {
  const auto t = ggml_type(type);
  check(t.has_value(), ErrorCode::InvalidArgument, "no ggml type has number " + std::to_string(type),
        "Use lq_type_from_name()");
  return *t;
}

void check_rows(DType t, const void* src, const void* dst, int64_t rows, int64_t cols) {
  check(src != nullptr && dst != nullptr && rows >= 0 && cols > 0, ErrorCode::InvalidArgument,
        "rows need a source, a destination, rows >= 0 and cols > 0");
  check(rows <= std::numeric_limits<int64_t>::max() / cols, ErrorCode::InvalidArgument,
        std::to_string(rows) + " x " + std::to_string(cols) + " values overflow");
  check(cols % traits(t).block_size == 0, ErrorCode::InvalidArgument,
        std::string(traits(t).name) + " rows hold a whole number of " + std::to_string(traits(t).block_size) +
            "-value blocks, not " + std::to_string(cols) + " values");
}

const io::GgufTensorInfo& tensor_at(const lq_gguf* f, int64_t index) {
  check(f != nullptr, ErrorCode::InvalidArgument, "no GGUF file handle");
  const auto& ts = f->file.header().tensors;
  check(index >= 0 && static_cast<size_t>(index) < ts.size(), ErrorCode::InvalidArgument,
        "tensor index " + std::to_string(index) + " is outside 0.." + std::to_string(ts.size()));
  return ts[static_cast<size_t>(index)];
}

}  // namespace

extern "C" {

const char* lq_version(void) { return LIBQUANT_VERSION_STRING; }
int lq_abi_version(void) { return LQ_ABI_VERSION; }
const char* lq_last_error(void) { return c_api::last_error().message.c_str(); }
const char* lq_last_suggestion(void) { return c_api::last_error().suggestion.c_str(); }
void lq_free(void* p) { std::free(p); }

void lq_set_log_callback(lq_log_fn fn, void* user) {
  if (!fn) {
    set_log_sink({});
    return;
  }
  set_log_sink([fn, user](LogLevel level, std::string_view message) {
    const std::string text(message);
    fn(static_cast<lq_log_level>(level), text.c_str(), user);
  });
}

lq_status lq_set_verbosity(int verbosity) {
  return c_api::guarded([&] {
    check(verbosity >= 0 && verbosity <= 3, ErrorCode::InvalidArgument, "verbosity must be 0 to 3");
    set_verbosity(static_cast<Verbosity>(verbosity));
  });
}

int lq_type_from_name(const char* name) {
  if (!name) return -1;
  const auto t = ggml_type_from_name(name);
  return t && traits(*t).is_ggml ? static_cast<int>(*t) : -1;
}

const char* lq_type_name(int type) {
  const auto t = ggml_type(type);
  return t ? traits(*t).name.data() : nullptr;  // the traits table's names are NUL-terminated literals
}

size_t lq_row_size(int type, int64_t cols) {
  const auto t = ggml_type(type);
  if (!t || cols <= 0 || cols % traits(*t).block_size != 0) return 0;
  return static_cast<size_t>(row_bytes(*t, cols));
}

lq_status lq_quantize_rows(int type, const float* src, void* dst, int64_t rows, int64_t cols, const float* importance) {
  return c_api::guarded([&] {
    const DType t = checked_type(type);
    check_rows(t, src, dst, rows, cols);
    check(gguf::can_quantize(t), ErrorCode::UnsupportedConversion,
          "rows cannot be quantized to " + std::string(traits(t).name));
    check(importance || !gguf::needs_importance(t), ErrorCode::InvalidArgument,
          std::string(traits(t).name) + " needs importance weights", "Pass an imatrix entry's column means");
    // The caller's memory is input like any file: NaN or inf would quantize to garbage blocks.
    require_finite("rows to quantize", src, static_cast<size_t>(rows * cols));
    if (importance) require_finite("importance weights", importance, static_cast<size_t>(cols));
    gguf::quantize_rows(t, src, dst, rows, cols, importance);
  });
}

lq_status lq_dequantize_rows(int type, const void* src, float* dst, int64_t rows, int64_t cols) {
  return c_api::guarded([&] {
    const DType t = checked_type(type);
    check_rows(t, src, dst, rows, cols);
    check(gguf::can_dequantize(t), ErrorCode::UnsupportedConversion,
          std::string(traits(t).name) + " rows cannot be decoded");
    gguf::dequantize(t, src, dst, rows * cols);
  });
}

lq_status lq_gguf_open(const char* path, lq_gguf** out) {
  return c_api::guarded([&] {
    check(path != nullptr && out != nullptr, ErrorCode::InvalidArgument,
          "lq_gguf_open needs a path and an out pointer");
    *out = nullptr;
    *out = new lq_gguf(path);
  });
}

void lq_gguf_close(lq_gguf* file) { delete file; }

int64_t lq_gguf_tensor_count(const lq_gguf* file) {
  return file ? static_cast<int64_t>(file->file.header().tensors.size()) : 0;
}

int64_t lq_gguf_find_tensor(const lq_gguf* file, const char* name) {
  if (!file || !name) return -1;
  const io::GgufHeader& h = file->file.header();
  const io::GgufTensorInfo* t = h.find_tensor(name);
  return t ? static_cast<int64_t>(t - h.tensors.data()) : -1;
}

lq_status lq_gguf_tensor_info(const lq_gguf* file, int64_t index, lq_tensor_info* out) {
  return c_api::guarded([&] {
    const io::GgufTensorInfo& t = tensor_at(file, index);
    check(out != nullptr, ErrorCode::InvalidArgument, "lq_gguf_tensor_info needs an out pointer");
    *out = lq_tensor_info{};
    out->name = t.name.c_str();
    out->type = static_cast<int>(t.type);
    out->n_dims = static_cast<int>(t.shape.rank());
    for (int d = 0; d < out->n_dims && d < 4; ++d) out->dims[d] = t.shape[static_cast<size_t>(out->n_dims - 1 - d)];
    out->nbytes = t.nbytes();
  });
}

lq_status lq_gguf_read_raw(const lq_gguf* file, int64_t index, void* dst, size_t capacity) {
  return c_api::guarded([&] {
    const io::GgufTensorInfo& t = tensor_at(file, index);
    check(dst != nullptr && capacity >= t.nbytes(), ErrorCode::InvalidArgument,
          "tensor '" + t.name + "' needs " + std::to_string(t.nbytes()) + " bytes");
    file->file.read(t, 0, {static_cast<std::byte*>(dst), static_cast<size_t>(t.nbytes())});
  });
}

lq_status lq_gguf_read_f32(const lq_gguf* file, int64_t index, float* dst, size_t count) {
  return c_api::guarded([&] {
    const io::GgufTensorInfo& t = tensor_at(file, index);
    check(dst != nullptr && count == t.shape.numel(), ErrorCode::InvalidArgument,
          "tensor '" + t.name + "' has " + std::to_string(t.shape.numel()) + " values");
    check(gguf::can_dequantize(t.type), ErrorCode::UnsupportedConversion,
          "tensor '" + t.name + "' has type " + std::string(traits(t.type).name) + ", which cannot be decoded");
    const TensorView v = file->file.view(t);
    gguf::dequantize(t.type, v.bytes.data(), dst, static_cast<int64_t>(count));
    file->file.release(t);
    require_finite("tensor '" + t.name + "'", dst, count);  // as every reader of the library checks
  });
}

}  // extern "C"
