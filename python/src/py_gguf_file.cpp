// libquant.gguf.GgufFile: a validated, memory-mapped GGUF file whose tensors
// are numpy views of the mapping (no copy; each view keeps the file open).
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/finite.hpp"
#include "libquant/gguf/row_codec.hpp"
#include "libquant/io/gguf_file.hpp"

namespace libquant::python {

namespace {

using io::GgufFile;
using io::GgufTensorInfo;

const GgufTensorInfo& tensor_named(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.header().find_tensor(name);
  check(t != nullptr, ErrorCode::InvalidArgument, "no tensor '" + name + "' in " + f.path().string(),
        "List them with .tensor_names()");
  return *t;
}

std::vector<size_t> dims_of(const GgufTensorInfo& t) {
  std::vector<size_t> dims;
  for (const int64_t d : t.shape.dims()) dims.push_back(static_cast<size_t>(d));
  return dims;
}

// The tensor's stored bytes as a read-only array owned by `self`: float32 /
// float16 in the tensor's shape, other types as uint8 rows of whole blocks.
nb::ndarray<nb::numpy, nb::ro> stored_view(nb::handle self, const GgufFile& f, const std::string& name) {
  const GgufTensorInfo& t = tensor_named(f, name);
  const TensorView v = f.view(t);
  const void* data = v.bytes.data();
  const std::vector<size_t> dims = dims_of(t);
  if (t.type == DType::F32) return {data, dims.size(), dims.data(), self, nullptr, nb::dtype<float>()};
  if (t.type == DType::F16) {
    const nb::dlpack::dtype f16{static_cast<uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
    return {data, dims.size(), dims.data(), self, nullptr, f16};
  }
  const size_t row = row_bytes(t.type, t.shape.row_length());
  const size_t shape[2] = {static_cast<size_t>(t.shape.rows()), row};
  return {data, 2, shape, self, nullptr, nb::dtype<uint8_t>()};
}

nb::ndarray<nb::numpy, float> decoded(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo& t = tensor_named(f, name);
  check(gguf::can_dequantize(t.type), ErrorCode::UnsupportedConversion,
        "tensor '" + t.name + "' has type " + std::string(traits(t.type).name) + ", which cannot be decoded");
  const uint64_t n = t.shape.numel();
  auto* values = new float[n];
  nb::capsule owner(values, [](void* p) noexcept { delete[] static_cast<float*>(p); });
  {
    nb::gil_scoped_release release;
    const TensorView v = f.view(t);
    gguf::dequantize(t.type, v.bytes.data(), values, static_cast<int64_t>(n));
    f.release(t);
    require_finite("tensor '" + t.name + "'", values, n);  // as every reader of the library checks
  }
  const std::vector<size_t> dims = dims_of(t);
  return {values, dims.size(), dims.data(), owner};
}

}  // namespace

void bind_gguf_file(nb::module_& gguf) {
  nb::class_<GgufFile>(gguf, "GgufFile", "A GGUF file, validated and memory-mapped (tensor data is not read).")
      .def(nb::init<const std::filesystem::path&>(), nb::arg("path"))
      .def_prop_ro("path", &GgufFile::path)
      .def_prop_ro("version", [](const GgufFile& f) { return f.header().version; })
      .def("tensor_names",
           [](const GgufFile& f) {
             std::vector<std::string> names;
             for (const auto& t : f.header().tensors) names.push_back(t.name);
             return names;
           })
      .def(
          "tensor_type",
          [](const GgufFile& f, const std::string& name) {
            return std::string(traits(tensor_named(f, name).type).name);
          },
          nb::arg("name"), "The tensor's ggml type name ('Q4_K', 'F32', ...).")
      .def(
          "tensor_shape", [](const GgufFile& f, const std::string& name) { return dims_of(tensor_named(f, name)); },
          nb::arg("name"), "Row-major shape (the reverse of GGUF's ne[]).")
      .def(
          "tensor",
          [](nb::handle self, const std::string& name) {
            return stored_view(self, nb::cast<const GgufFile&>(self), name);
          },
          nb::arg("name"),
          "The stored data without a copy: a read-only view of the mapping (float32 / float16 in the tensor's "
          "shape; other types as uint8 rows, decodable with libquant.gguf.dequantize).")
      .def("read_f32", &decoded, nb::arg("name"), "The tensor decoded to a new float32 array of its shape.");
}

}  // namespace libquant::python
