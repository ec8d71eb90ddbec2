// libquant.gguf's block codecs on numpy arrays: quantize rows of floats to a
// ggml type's bytes exactly as llama-quantize does, and decode them back, so
// Python code (QAT, experiments) can simulate GGUF quantization in memory.
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/gguf/row_codec.hpp"

namespace libquant::python {

namespace {

using FloatRows = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using FloatVector = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// A bytes-like object's memory for the duration of a call (released with the GIL held).
class BufferView {
 public:
  explicit BufferView(nb::handle obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) throw nb::python_error();
  }
  ~BufferView() { PyBuffer_Release(&view_); }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  const void* data() const { return view_.buf; }
  uint64_t size() const { return static_cast<uint64_t>(view_.len); }

 private:
  Py_buffer view_{};
};

int64_t checked_cols(DType t, int64_t cols) {
  const auto block = static_cast<int64_t>(traits(t).block_size);
  check(cols > 0 && cols % block == 0, ErrorCode::InvalidArgument,
        std::string(traits(t).name) + " rows hold a whole number of " + std::to_string(block) + "-value blocks, not " +
            std::to_string(cols) + " values",
        "Pad or reshape the rows to a multiple of " + std::to_string(block));
  return cols;
}

nb::bytes quantize(const FloatRows& rows, const std::string& type, const std::optional<FloatVector>& importance) {
  const DType t = ggml_type_named(type);
  check(gguf::can_quantize(t), ErrorCode::UnsupportedConversion,
        "rows cannot be quantized to " + std::string(traits(t).name));
  check(rows.ndim() == 1 || rows.ndim() == 2, ErrorCode::InvalidArgument,
        "quantize takes one row (1-D) or rows (2-D), not a " + std::to_string(rows.ndim()) + "-D array");
  const int64_t cols = checked_cols(t, static_cast<int64_t>(rows.shape(rows.ndim() - 1)));
  const int64_t n_rows = rows.ndim() == 2 ? static_cast<int64_t>(rows.shape(0)) : 1;
  check(importance || !gguf::needs_importance(t), ErrorCode::InvalidArgument,
        std::string(traits(t).name) + " needs importance weights", "Pass imatrix= (one value per column)");
  if (importance)
    check(static_cast<int64_t>(importance->shape(0)) == cols, ErrorCode::InvalidArgument,
          "imatrix has " + std::to_string(importance->shape(0)) + " values for rows of " + std::to_string(cols));
  const size_t n_values = rows.size();
  require_finite("rows to quantize", rows.data(), n_values);
  if (importance) require_finite("importance weights", importance->data(), static_cast<size_t>(cols));
  const uint64_t n_bytes = static_cast<uint64_t>(n_rows) * row_bytes(t, cols);
  check(n_bytes <= static_cast<uint64_t>(std::numeric_limits<Py_ssize_t>::max()), ErrorCode::InvalidArgument,
        "the quantized rows would not fit a bytes object");
  // Written in place: the bytes object is new and nobody else sees it yet.
  PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n_bytes));
  if (!out) throw nb::python_error();
  nb::bytes result = nb::steal<nb::bytes>(out);
  char* dst = PyBytes_AsString(out);
  const float* src = rows.data();
  const float* imp = importance ? importance->data() : nullptr;
  {
    nb::gil_scoped_release release;
    gguf::quantize_rows(t, src, dst, n_rows, cols, imp);
  }
  return result;
}

nb::ndarray<nb::numpy, float, nb::ndim<2>> dequantize(const nb::object& data, const std::string& type, int64_t cols) {
  const DType t = ggml_type_named(type);
  check(gguf::can_dequantize(t), ErrorCode::UnsupportedConversion,
        std::string(traits(t).name) + " data cannot be decoded");
  checked_cols(t, cols);
  const BufferView view(data);
  const uint64_t row = row_bytes(t, cols);
  const uint64_t size = view.size();
  check(size % row == 0, ErrorCode::InvalidArgument,
        std::to_string(size) + " bytes are not whole " + std::string(traits(t).name) + " rows of " +
            std::to_string(cols) + " values (" + std::to_string(row) + " bytes each)");
  const uint64_t n_rows = size / row;
  auto* values = new float[n_rows * static_cast<uint64_t>(cols)];
  nb::capsule owner(values, [](void* p) noexcept { delete[] static_cast<float*>(p); });
  {
    nb::gil_scoped_release release;
    gguf::dequantize(t, view.data(), values, static_cast<int64_t>(n_rows) * cols);
  }
  return {values, {static_cast<size_t>(n_rows), static_cast<size_t>(cols)}, owner};
}

std::vector<std::string> quantizable_types() {
  std::vector<std::string> out;
  for (uint32_t id = 0; id < 256; ++id) {
    if (!is_valid_ggml_type_id(id)) continue;
    const auto t = static_cast<DType>(id);
    if (traits(t).is_ggml && gguf::can_quantize(t)) out.emplace_back(traits(t).name);
  }
  return out;
}

}  // namespace

DType ggml_type_named(const std::string& name) {
  const auto t = ggml_type_from_name(name);
  check(t.has_value() && traits(*t).is_ggml, ErrorCode::InvalidArgument, "'" + name + "' is no ggml type",
        "Use one of libquant.gguf.types()");
  return *t;
}

void bind_codecs(nb::module_& gguf) {
  gguf.def("quantize", &quantize, nb::arg("rows"), nb::arg("type"), nb::arg("imatrix").none() = nb::none(),
           "Quantize float32 rows (1-D: one row; 2-D: rows x cols, C order) to `type` ('Q4_K', 'Q8_0', "
           "'IQ2_XS', ...): the bytes llama-quantize writes for them. `imatrix` (cols float32 values, an "
           "importance matrix entry's column means) weighs the columns; the IQ1/IQ2 types need it.");
  gguf.def("dequantize", &dequantize, nb::arg("data"), nb::arg("type"), nb::arg("cols"),
           "Decode rows of `type` (any bytes-like object) to a new float32 array of shape (rows, cols).");
  gguf.def(
      "row_size",
      [](const std::string& type, int64_t cols) {
        const DType t = ggml_type_named(type);
        return row_bytes(t, checked_cols(t, cols));
      },
      nb::arg("type"), nb::arg("cols"), "Bytes of one row of `cols` values in `type`.");
  gguf.def(
      "block_size", [](const std::string& type) { return traits(ggml_type_named(type)).block_size; }, nb::arg("type"),
      "Values per block of `type` (rows hold whole blocks).");
  gguf.def(
      "needs_imatrix", [](const std::string& type) { return gguf::needs_importance(ggml_type_named(type)); },
      nb::arg("type"), "Whether `type` needs importance weights (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S).");
  gguf.def("types", &quantizable_types, "The ggml types quantize() accepts.");
}

}  // namespace libquant::python
